package io.sagebus.impl.call;

import io.vertx.core.Completable;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;

import java.util.concurrent.locks.LockSupport;

/**
 * Waits for a sync call's Future on a thread that has no Vert.x context (a job's operator, a {@code main}, a
 * virtual thread of the user's own), as {@link Future#await()} does there, with one park instead of a
 * {@code CountDownLatch} (its queue node and hand-shake were a visible share of a busy operator's time). The same
 * outcome: the result, the failure thrown as it is, or an {@link InterruptedException} (thrown unchecked, as
 * {@code await} throws it) when the thread is interrupted before or while it waits. On a thread with a context (a
 * Vert.x virtual-thread verticle) it is {@code await} itself, which lets the context run other tasks meanwhile.
 */
final class ThreadWait implements Completable<Object> {

  private final Thread thread = Thread.currentThread();

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
      parkUntil(future, w);
    }
    return outcomeOf(future);
  }

  /**
   * Parks this thread until the future completes, for a thread that something wakes as it completes (a listener, or
   * the call itself); as {@code await}, an interrupt ends the wait with an {@link InterruptedException} thrown
   * unchecked.
   *
   * @param future  the future
   * @param blocker what the thread is parked on, for thread dumps
   */
  static void parkUntil(Future<?> future, Object blocker) {
    while (!future.isComplete()) {
      LockSupport.park(blocker);
      if (Thread.interrupted()) {
        throw sneaky(new InterruptedException());
      }
    }
  }

  /**
   * {@return a completed future's result; its failure is thrown as it is, unchecked}
   *
   * @param future a completed future
   * @param <T>    the result type
   */
  static <T> T outcomeOf(Future<T> future) {
    if (future.succeeded()) {
      return future.result();
    }
    throw sneaky(future.cause());
  }

  @Override
  public void complete(Object result, Throwable failure) {
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
