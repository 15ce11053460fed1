package io.sagebus;

/**
 * The call was cancelled before it had an answer: by its caller ({@link CallHandle#cancel()}), by
 * {@link Job#cancel()}, by the cancellation of the service call that made it, or by an HTTP client
 * that disconnected from {@code POST /services/{name}/call}. Its code is {@link FailureCode#CANCELLED}.
 * <p>
 * The caller sees it at once; the instance running the call is told by a control message: a queued
 * call is dropped, an executing one is interrupted (a plain-value method) or told through its
 * {@link CallContext} (a {@code Future}-returning one), and the calls it made are cancelled in turn.
 * The method may have run in part, so the call is not retried.
 */
public class ServiceCancelledException extends ServiceCallException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param service the called service
   * @param method  the called method
   * @param reason  why the call was cancelled (who cancelled it)
   */
  public ServiceCancelledException(String service, String method, String reason) {
    super(service, method, FailureCode.CANCELLED, null, reason, null);
  }
}
