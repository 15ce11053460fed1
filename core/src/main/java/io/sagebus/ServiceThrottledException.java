package io.sagebus;

import java.time.Duration;

/**
 * The service's rate limit in this JVM ({@link ServiceOptions#setRateLimit(RateLimit)}) had no
 * permit free within the call's budget: the next free permit comes later than the call's
 * deadline. The call failed at once, without waiting and without being sent, so the service never
 * saw it. Its code is {@link FailureCode#THROTTLED}, which the caller reports itself and which never
 * travels on the bus; it is retryable (the method did not run). A call that can wait for its permit
 * within its budget is not failed: it waits, so a pipeline over a limited service slows down instead.
 */
public class ServiceThrottledException extends ServiceCallException {

  private static final long serialVersionUID = 1L;

  private final Duration wait;
  private final Duration budget;

  /**
   * Creates the exception.
   *
   * @param service the called service
   * @param method  the called method
   * @param limit   the service's rate limit
   * @param wait    about how long the call would have waited for a permit
   * @param budget  the budget the call had left
   */
  public ServiceThrottledException(String service, String method, RateLimit limit, Duration wait, Duration budget) {
    super(service, method, FailureCode.THROTTLED, "Call to " + service + "." + method + " throttled: the rate limit of "
      + limit.getCallsPerSecond() + " calls/s (burst " + limit.getBurst() + ") in this JVM has its next permit in about "
      + wait.toMillis() + " ms, after the call's budget of " + budget.toMillis() + " ms left; it was not sent");
    this.wait = wait;
    this.budget = budget;
  }

  /**
   * {@return about how long the call would have had to wait for a permit}
   */
  public Duration waitNeeded() {
    return wait;
  }

  /**
   * {@return the budget the call had left when it asked for a permit}
   */
  public Duration budget() {
    return budget;
  }
}
