package io.sagebus;

/**
 * Base of every failure a Sagebus service call or deployment reports (a {@link SagebusException}).
 * <p>
 * Subtypes say what happened: {@link ServiceNotFoundException}, {@link ServiceTimeoutException},
 * {@link ServiceCallException} and {@link ServiceOverloadedException}. Each carries the service
 * and method it concerns.
 */
public abstract class ServiceException extends SagebusException {

  private static final long serialVersionUID = 1L;

  private final String service;
  private final String method;

  /**
   * Creates the exception.
   *
   * @param service the called service
   * @param method  the called method, or {@code null} when it does not apply
   * @param message the detail message
   * @param cause   the cause, or {@code null}
   */
  protected ServiceException(String service, String method, String message, Throwable cause) {
    super(message, cause);
    this.service = service;
    this.method = method;
  }

  /**
   * {@return the name of the called service}
   */
  public String service() {
    return service;
  }

  /**
   * {@return the name of the called method, or {@code null} when it does not apply}
   */
  public String method() {
    return method;
  }

  /**
   * {@return {@code true} when sending the same call again cannot make the service run it twice}
   */
  public boolean retryable() {
    return false;
  }
}
