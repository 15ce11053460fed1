package io.sagebus;

/**
 * The service instance that received the call was full: {@code maxConcurrency} calls running and
 * {@code maxQueued} waiting. The method did not run, so the call may be retried; a
 * {@link RetryPolicy} does so for calls marked retryable.
 */
public class ServiceOverloadedException extends ServiceCallException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param service       the called service
   * @param method        the called method
   * @param remoteMessage what the service said about its limits
   */
  public ServiceOverloadedException(String service, String method, String remoteMessage) {
    super(service, method, FailureCode.OVERLOADED, null, remoteMessage, null);
  }
}
