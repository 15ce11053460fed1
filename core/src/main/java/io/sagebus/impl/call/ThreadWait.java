package io.sagebus.impl.call;

import io.vertx.core.Completable;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;

import java.util.concurrent.locks.LockSupport;

/**
 * Waits for a sync call's Future on a thread that has no Vert.x context (a job's operator, a {@code main}, a
 * virtual thread of the user's own), as {@link Future#await()} does there, with one flag and one park instead of a
 * {@code CountDownLatch} (its queue node and hand-shake were a visible share of a busy operator's time). The same
 * outcome: the result, the failure thrown as it is, or an {@link InterruptedException} (thrown unchecked, as
 * {@code await} throws it) when the thread is interrupted before or while it waits. On a thread with a context (a
 * Vert.x virtual-thread verticle) it is {@code await} itself, which lets the context run other tasks meanwhile.
 */
final class ThreadWait implements Completable<Object> {

  private final Thread thread = Thread.currentThread();
  private volatile boolean done;

  private ThreadWait() {
  }

  /**
   * {@return the future's result once it completes}
   *
   * @param future a call's future
   * @param <T>    the result type
   */
  @SuppressWarnings("unchecked")
  static <T> T await(Future<T> future) {
    if (ContextInternal.current() != null) {
      return future.await();
    }
    if (Thread.interrupted()) { // as await: even when the future has completed
      throw sneaky(new InterruptedException());
    }
    if (!future.isComplete()) {
      ThreadWait w = new ThreadWait();
      ((Future<Object>) future).onComplete(w);
      while (!w.done) {
        LockSupport.park(w);
        if (Thread.interrupted()) {
          throw sneaky(new InterruptedException());
        }
      }
    }
    if (future.succeeded()) {
      return future.result();
    }
    throw sneaky(future.cause());
  }

  @Override
  public void complete(Object result, Throwable failure) {
    done = true;
    LockSupport.unpark(thread);
  }

  /**
   * Throws a checked throwable unchecked, as {@code await} does.
   *
   * @param t what to throw
   * @return nothing: it throws
   * @throws E always
   */
  @SuppressWarnings("unchecked")
  static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
    throw (E) t;
  }
}
