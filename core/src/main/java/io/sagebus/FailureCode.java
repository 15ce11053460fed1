package io.sagebus;

/**
 * Why a service call failed, as the service task reports it.
 * <p>
 * On the wire a failed call is a {@link io.vertx.core.eventbus.ReplyException} whose
 * {@code failureCode()} is {@link #code()} and whose message is a JSON object
 * {@code {"type", "message", "stack"}}. {@link #retryable()} says whether a call may be sent
 * again without risk that the service ran it twice.
 */
public enum FailureCode {

  /** The service has no public method of that name. Not retried. */
  UNKNOWN_METHOD(1001, false),
  /** Wrong number of arguments, or arguments that cannot be converted to the parameter types. Not retried. */
  BAD_ARGUMENTS(1002, false),
  /** The service method threw, or its {@code Future} failed. Not retried. */
  SERVICE_ERROR(1003, false),
  /** The service instance had {@code maxConcurrency} calls running and {@code maxQueued} waiting. The method never ran. */
  OVERLOADED(1004, true),
  /**
   * The call's budget was spent: before the service began (the method never ran), or at the caller
   * with no answer in time. Callers see it as a {@link ServiceTimeoutException}. Not retried.
   */
  DEADLINE_EXCEEDED(1005, false),
  /** The service was being undeployed: a queued call never ran, an executing one outlived the drain timeout. */
  STOPPING(1006, false),
  /** The request was not a Sagebus request (body not {@code {"method", "args"}}). Not retried. */
  BAD_REQUEST(1007, false),
  /** The result arrived but could not be converted to the result type the caller asked for. Reported by the caller. */
  BAD_RESULT(1008, false),
  /**
   * The caller's circuit breaker for the service is open ({@link CircuitOpenException}): the call
   * was not sent. Reported by the caller only; it never travels on the bus. Not retried.
   */
  CIRCUIT_OPEN(1009, false),
  /**
   * The service is registered in a {@link LocalEnvironment} but not running, and the environment
   * does not start services on their first call ({@link EnvironmentOptions#setStartOnCall(boolean)}):
   * call {@code start()} or {@code deploy(name)} first. Reported by the caller at once; the method never ran.
   */
  NOT_STARTED(1010, false),
  /**
   * The service's rate limit in this JVM ({@link ServiceOptions#setRateLimit(RateLimit)}) had no permit
   * free within the call's budget ({@link ServiceThrottledException}): the call was not sent. Reported by
   * the caller at once; it never travels on the bus. Retryable: the method did not run.
   */
  THROTTLED(1011, true),
  /**
   * The call was cancelled ({@link ServiceCancelledException}): by its caller through a {@link CallHandle},
   * by {@link Job#cancel()} of the job whose operator made it, by the cancellation of the service call that
   * made it, or by an HTTP client that disconnected. A queued call never ran; an executing one was told
   * (its virtual thread interrupted, its {@link CallContext} cancelled) and the calls it made were cancelled
   * in turn. Not retried.
   */
  CANCELLED(1012, false),
  /**
   * The replica that got the call is leaving (its node stops, or the replica is undeployed from
   * that node) and refused it before it ran. A Sagebus caller never reports it: it sends the call
   * again at once, to another replica, whatever its retry policy (the attempt is not counted), until
   * the call's budget is spent; a foreign sender may re-send it likewise. Retryable: the method did
   * not run.
   */
  LEAVING(1013, true);

  private final int code;
  private final boolean retryable;

  FailureCode(int code, boolean retryable) {
    this.code = code;
    this.retryable = retryable;
  }

  /**
   * {@return the integer sent as the event-bus failure code}
   */
  public int code() {
    return code;
  }

  /**
   * {@return {@code true} when the method certainly did not run, so a retry cannot run it twice}
   */
  public boolean retryable() {
    return retryable;
  }

  /**
   * Finds the failure code sent as an event-bus failure code.
   *
   * @param code the event-bus failure code
   * @return the matching code, or {@code null} when {@code code} is not one of Sagebus's
   */
  public static FailureCode fromCode(int code) {
    for (FailureCode c : values()) {
      if (c.code == code) {
        return c;
      }
    }
    return null;
  }
}
