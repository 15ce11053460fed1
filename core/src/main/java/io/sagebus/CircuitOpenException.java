package io.sagebus;

import java.util.List;

/**
 * The circuit breaker of the service is open in this JVM: the call failed at once, without being
 * sent, because recent calls failed in a way that says the service is unwell (see
 * {@link CircuitBreakerPolicy}). Its code is {@link FailureCode#CIRCUIT_OPEN}, which the caller
 * reports itself and which never travels on the bus.
 */
public class CircuitOpenException extends ServiceCallException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param service the called service
   * @param method  the called method
   * @param why     what the breaker saw, for the message
   */
  public CircuitOpenException(String service, String method, String why) {
    super(service, method, FailureCode.CIRCUIT_OPEN, null, why, List.of());
  }
}
