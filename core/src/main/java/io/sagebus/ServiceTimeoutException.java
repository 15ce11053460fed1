package io.sagebus;

import java.time.Duration;

/**
 * No answer came within the call's timeout. Also reported when a registered service had no
 * running instance until the deadline.
 */
public class ServiceTimeoutException extends ServiceException {

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
    super(service, method, "Call to " + service + "." + method + " timed out after " + timeout.toMillis()
      + " ms (" + attempts + (attempts == 1 ? " attempt" : " attempts") + "): " + detail, null);
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
