package io.sagebus;

import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.Objects;

/**
 * When the circuit breaker of a service opens and how long it stays open, set with
 * {@link ServiceOptions#setCircuitBreaker(CircuitBreakerPolicy)}.
 * <p>
 * A caller JVM keeps one breaker per environment and service (built on vertx-circuit-breaker).
 * It counts only failures that say the service is unwell: {@link FailureCode#SERVICE_ERROR},
 * {@link FailureCode#OVERLOADED} and timeouts ({@link ServiceTimeoutException}); a caller's
 * mistake ({@link FailureCode#BAD_ARGUMENTS}, an unknown method, ...) never counts. A whole call
 * counts once, whatever its retries: a call that succeeds on its third attempt is one success.
 * After {@link #getMaxFailures()} counted failures within {@link #getFailureWindow()}, with no
 * success or other answer between them, the circuit opens: calls fail at once with
 * {@link CircuitOpenException} and the service is not ready. After {@link #getResetTimeout()}
 * one trial call goes through (half-open): its success closes the circuit, a counted failure
 * opens it again.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them.
 */
public class CircuitBreakerPolicy {

  /** Default counted failures that open the circuit: 5. */
  public static final int DEFAULT_MAX_FAILURES = 5;
  /** Default time the circuit stays open before a trial call: 30 s. */
  public static final Duration DEFAULT_RESET_TIMEOUT = Duration.ofSeconds(30);
  /** Default window in which failures are counted: 10 s. */
  public static final Duration DEFAULT_FAILURE_WINDOW = Duration.ofSeconds(10);

  private int maxFailures = DEFAULT_MAX_FAILURES;
  private Duration resetTimeout = DEFAULT_RESET_TIMEOUT;
  private Duration failureWindow = DEFAULT_FAILURE_WINDOW;

  /** A policy with the defaults. */
  public CircuitBreakerPolicy() {
  }

  /**
   * Copy constructor.
   *
   * @param other the policy to copy
   */
  public CircuitBreakerPolicy(CircuitBreakerPolicy other) {
    this.maxFailures = other.maxFailures;
    this.resetTimeout = other.resetTimeout;
    this.failureWindow = other.failureWindow;
  }

  /**
   * Reads a policy from JSON, as written by {@link #toJson()}; absent fields keep their defaults.
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is out of range
   */
  public CircuitBreakerPolicy(JsonObject json) {
    setMaxFailures(json.getInteger("maxFailures", DEFAULT_MAX_FAILURES));
    setResetTimeout(Duration.ofMillis(json.getLong("resetTimeoutMillis", DEFAULT_RESET_TIMEOUT.toMillis())));
    setFailureWindow(Duration.ofMillis(json.getLong("failureWindowMillis", DEFAULT_FAILURE_WINDOW.toMillis())));
  }

  /**
   * {@return the JSON form, read back by {@link #CircuitBreakerPolicy(JsonObject)}}
   */
  public JsonObject toJson() {
    return new JsonObject()
      .put("maxFailures", maxFailures)
      .put("resetTimeoutMillis", resetTimeout.toMillis())
      .put("failureWindowMillis", failureWindow.toMillis());
  }

  /**
   * {@return how many counted failures open the circuit}
   */
  public int getMaxFailures() {
    return maxFailures;
  }

  /**
   * {@return this}
   *
   * @param maxFailures counted failures, within the failure window and with nothing else answered between
   *                    them, that open the circuit; at least 1
   * @throws IllegalArgumentException when below 1
   */
  public CircuitBreakerPolicy setMaxFailures(int maxFailures) {
    if (maxFailures < 1) {
      throw new IllegalArgumentException("maxFailures must be at least 1, got " + maxFailures);
    }
    this.maxFailures = maxFailures;
    return this;
  }

  /**
   * {@return how long the circuit stays open before one trial call goes through}
   */
  public Duration getResetTimeout() {
    return resetTimeout;
  }

  /**
   * {@return this}
   *
   * @param resetTimeout how long the circuit stays open before one trial call goes through; positive
   * @throws IllegalArgumentException when not positive
   */
  public CircuitBreakerPolicy setResetTimeout(Duration resetTimeout) {
    if (resetTimeout == null || resetTimeout.isNegative() || resetTimeout.isZero()) {
      throw new IllegalArgumentException("resetTimeout must be positive, got " + resetTimeout);
    }
    this.resetTimeout = resetTimeout;
    return this;
  }

  /**
   * {@return the window in which failures are counted}
   */
  public Duration getFailureWindow() {
    return failureWindow;
  }

  /**
   * {@return this}
   *
   * @param failureWindow the window in which failures are counted; at least 1 s, counted in whole seconds
   *                      (vertx-circuit-breaker's rolling counter has one slot per second)
   * @throws IllegalArgumentException when below 1 s
   */
  public CircuitBreakerPolicy setFailureWindow(Duration failureWindow) {
    if (failureWindow == null || failureWindow.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("failureWindow must be at least 1 s, got " + failureWindow);
    }
    this.failureWindow = failureWindow;
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CircuitBreakerPolicy that && maxFailures == that.maxFailures
      && resetTimeout.equals(that.resetTimeout) && failureWindow.equals(that.failureWindow);
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxFailures, resetTimeout, failureWindow);
  }

  @Override
  public String toString() {
    return "CircuitBreakerPolicy" + toJson().encode();
  }
}
