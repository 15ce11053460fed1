package io.sagebus;

import java.time.Duration;

/**
 * The call's budget was spent: no answer came within its timeout, a registered service had no
 * running instance until the deadline, the service found the budget spent before the method could
 * begin (it never ran), or a service making a nested call had no budget left. Whichever side noticed,
 * it is this one type, with the one code {@link FailureCode#DEADLINE_EXCEEDED}.
 */
public class ServiceTimeoutException extends ServiceCallException {

  private static final long serialVersionUID = 1L;

  private final Duration timeout;
  private final int attempts;

  /**
   * Creates the exception.
   *
   * @param service  the called service
   * @param method   the called method
   * @param timeout  the call's whole budget
   * @param attempts how many requests were sent
   * @param detail   what the caller was waiting for
   */
  public ServiceTimeoutException(String service, String method, Duration timeout, int attempts, String detail) {
    super(service, method, FailureCode.DEADLINE_EXCEEDED, "Call to " + service + "." + method + " timed out after "
      + timeout.toMillis() + " ms (" + attempts + (attempts == 1 ? " attempt" : " attempts") + "): " + detail);
    this.timeout = timeout;
    this.attempts = attempts;
  }

  /**
   * {@return the call's whole budget}
   */
  public Duration timeout() {
    return timeout;
  }

  /**
   * {@return how many requests were sent before the budget ran out (0 when no instance was running)}
   */
  public int attempts() {
    return attempts;
  }
}
