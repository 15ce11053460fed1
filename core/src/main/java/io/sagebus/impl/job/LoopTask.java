package io.sagebus.impl.job;

import io.netty.channel.SingleThreadEventLoop;
import io.netty.util.concurrent.EventExecutor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.RejectedExecutionException;

/**
 * A task for an event loop's thread, queued there at most once at a time: what is requested while it is queued is
 * served by that one run, which takes requests again as it starts. Where it cannot be queued (the loop is shutting
 * down) it runs at once, on the requesting thread.
 */
final class LoopTask implements Runnable {

  private static final VarHandle QUEUED;

  static {
    try {
      QUEUED = MethodHandles.lookup().findVarHandle(LoopTask.class, "queued", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Runnable task;
  private final boolean afterIteration;
  /** Whether it is queued on a loop and has not started. */
  @SuppressWarnings("unused")
  private volatile boolean queued;

  /**
   * @param task           what it runs
   * @param afterIteration whether it runs once the loop's current run of tasks is over (else as the next task queued)
   */
  LoopTask(Runnable task, boolean afterIteration) {
    this.task = task;
    this.afterIteration = afterIteration;
  }

  /**
   * Queues it on {@code loop}, the requesting thread's, unless it is queued already.
   *
   * @param loop the event loop whose thread calls this; a loop that cannot queue after its iteration queues it as a task
   */
  void request(EventExecutor loop) {
    if (!queued && QUEUED.compareAndSet(this, false, true)) {
      try {
        if (afterIteration && loop instanceof SingleThreadEventLoop l) {
          l.executeAfterEventLoopIteration(this);
        } else {
          loop.execute(this);
        }
      } catch (RejectedExecutionException e) {
        run(); // the loop is shutting down: now, and the next request queues again
      }
    }
  }

  /** Runs the task; requests from now on queue it again. */
  @Override
  public void run() {
    queued = false;
    task.run();
  }
}
