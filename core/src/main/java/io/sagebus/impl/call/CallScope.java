package io.sagebus.impl.call;

/**
 * The call a thread is executing inside a service, so that calls it makes inherit what is left
 * of its budget and its request id appears in their logs. Set only while a service method runs.
 * <p>
 * An executing invocation is its own scope (no object more per call); a batch's run has a {@link Fixed} one.
 */
public interface CallScope {

  /** {@return the service being executed} */
  String service();

  /** {@return the request id of the executing call, or {@code null} (a batch's run)} */
  String requestId();

  /** {@return {@link System#nanoTime()} at which the budget is spent, or 0 for none} */
  long deadlineNanos();

  /** {@return the executing call's cancellation: the calls it makes follow it; {@code null} when it has none} */
  Cancellation cancellation();

  /**
   * {@return a scope of these values}
   *
   * @param service       the service being executed
   * @param requestId     the request id of the executing call, or {@code null}
   * @param deadlineNanos {@link System#nanoTime()} at which the budget is spent, or 0 for none
   * @param cancellations where the executing call's cancellation comes from, or {@code null} for none
   */
  static CallScope of(String service, String requestId, long deadlineNanos, CancellationSource cancellations) {
    return new Fixed(service, requestId, deadlineNanos, cancellations);
  }

  /**
   * {@return the scope of the executing call on this thread, or {@code null}}
   */
  static CallScope current() {
    return ThreadScope.CURRENT.get();
  }

  /**
   * {@return the scope it replaces, to give back to {@link #restore(CallScope)}}
   *
   * @param scope the scope to enter, or {@code null}
   */
  static CallScope enter(CallScope scope) {
    CallScope previous = ThreadScope.CURRENT.get();
    ThreadScope.CURRENT.set(scope);
    return previous;
  }

  /**
   * Gives this thread back the scope it had before {@link #enter(CallScope)}.
   *
   * @param previous what {@link #enter(CallScope)} returned
   */
  static void restore(CallScope previous) {
    // set(null), not remove(): removing and adding the entry again on every call costs more than the slot.
    ThreadScope.CURRENT.set(previous);
  }

  /**
   * {@return milliseconds left, {@link Long#MAX_VALUE} when there is no deadline}
   */
  default long remainingMillis() {
    long deadline = deadlineNanos();
    if (deadline == 0) {
      return Long.MAX_VALUE;
    }
    return Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
  }

  /**
   * A scope of fixed values.
   *
   * @param service       the service being executed
   * @param requestId     the request id of the executing call, or {@code null}
   * @param deadlineNanos {@link System#nanoTime()} at which the budget is spent, or 0 for none
   * @param cancellations where the executing call's cancellation comes from, or {@code null} for none
   */
  record Fixed(String service, String requestId, long deadlineNanos, CancellationSource cancellations)
    implements CallScope {

    /** {@return the executing call's cancellation, from its source; {@code null} when it has none} */
    @Override
    public Cancellation cancellation() {
      return cancellations == null ? null : cancellations.cancellation();
    }
  }
}
