package io.sagebus.impl.call;

import io.netty.util.concurrent.FastThreadLocal;

/**
 * The call a thread is executing inside a service, so that calls it makes inherit what is left
 * of its budget and its request id appears in their logs. Set only while a service method runs.
 *
 * @param service       the service being executed
 * @param requestId     the request id of the executing call
 * @param deadlineNanos {@link System#nanoTime()} at which the budget is spent, or 0 for none
 * @param cancellations where the executing call's cancellation comes from (the calls it makes follow it), or
 *                      {@code null} for none
 */
public record CallScope(String service, String requestId, long deadlineNanos, CancellationSource cancellations) {

  /**
   * {@return the executing call's cancellation: the calls it makes follow it; {@code null} when it has none}
   */
  public Cancellation cancellation() {
    return cancellations == null ? null : cancellations.cancellation();
  }

  /**
   * Netty's thread local: an array slot on Vert.x's event-loop threads, where Future-returning
   * service methods and most callers run; a plain ThreadLocal underneath on other threads.
   */
  private static final FastThreadLocal<CallScope> CURRENT = new FastThreadLocal<>();

  /**
   * {@return the scope of the executing call on this thread, or {@code null}}
   */
  public static CallScope current() {
    return CURRENT.get();
  }

  /**
   * {@return the scope it replaces, to give back to {@link #restore(CallScope)}}
   *
   * @param scope the scope to enter, or {@code null}
   */
  public static CallScope enter(CallScope scope) {
    CallScope previous = CURRENT.get();
    CURRENT.set(scope);
    return previous;
  }

  /**
   * Gives this thread back the scope it had before {@link #enter(CallScope)}.
   *
   * @param previous what {@link #enter(CallScope)} returned
   */
  public static void restore(CallScope previous) {
    // set(null), not remove(): removing and adding the entry again on every call costs more than the slot.
    CURRENT.set(previous);
  }

  /**
   * {@return milliseconds left, {@link Long#MAX_VALUE} when there is no deadline}
   */
  public long remainingMillis() {
    if (deadlineNanos == 0) {
      return Long.MAX_VALUE;
    }
    return Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000);
  }
}
