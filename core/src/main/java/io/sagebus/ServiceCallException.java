package io.sagebus;

import java.util.List;

/**
 * The service answered the call with a failure: it has no such method, the arguments did not
 * fit, the method threw, the deadline had passed, or the service was stopping.
 * <p>
 * When the method threw, {@link #remoteType()}, {@link #remoteMessage()} and
 * {@link #remoteStack()} describe the exception on the service's side (the exception object
 * itself never crosses the bus: only JSON does).
 */
public class ServiceCallException extends ServiceException {

  private static final long serialVersionUID = 1L;

  private final FailureCode code;
  private final String remoteType;
  private final String remoteMessage;
  private final List<String> remoteStack;

  /**
   * Creates the exception from the failure a service task answered.
   *
   * @param service       the called service
   * @param method        the called method
   * @param code          why the call failed
   * @param remoteType    the class name of the exception on the service side, or {@code null}
   * @param remoteMessage its message, or {@code null}
   * @param remoteStack   its stack frames as text, possibly empty
   */
  public ServiceCallException(String service, String method, FailureCode code, String remoteType,
                              String remoteMessage, List<String> remoteStack) {
    super(service, method, service + "." + method + " failed with " + code
      + (remoteType != null ? ": " + remoteType : "")
      + (remoteMessage != null ? ": " + remoteMessage : ""), null);
    this.code = code;
    this.remoteType = remoteType;
    this.remoteMessage = remoteMessage;
    this.remoteStack = remoteStack == null ? List.of() : List.copyOf(remoteStack);
  }

  /**
   * Creates the exception with a message of its own, for subtypes.
   *
   * @param service the called service
   * @param method  the called method
   * @param code    why the call failed
   * @param message the detail message
   */
  protected ServiceCallException(String service, String method, FailureCode code, String message) {
    super(service, method, message, null);
    this.code = code;
    this.remoteType = null;
    this.remoteMessage = null;
    this.remoteStack = List.of();
  }

  /**
   * {@return why the call failed}
   */
  public FailureCode code() {
    return code;
  }

  /**
   * {@return the class name of the exception raised on the service side, or {@code null}}
   */
  public String remoteType() {
    return remoteType;
  }

  /**
   * {@return the message of the exception raised on the service side, or {@code null}}
   */
  public String remoteMessage() {
    return remoteMessage;
  }

  /**
   * {@return the stack frames of the exception raised on the service side, one string each}
   */
  public List<String> remoteStack() {
    return remoteStack;
  }

  @Override
  public boolean retryable() {
    return code.retryable();
  }
}
