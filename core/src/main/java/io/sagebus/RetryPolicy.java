package io.sagebus;

import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a call is retried: attempts, exponential backoff with jitter, and a per-attempt timeout.
 * <p>
 * Only failures after which the service certainly or possibly did not complete the call are
 * retried: a timed-out attempt (TIMEOUT) and {@link FailureCode#OVERLOADED}. And only calls
 * marked retryable ({@link CallOptions#retryable(boolean)} or
 * {@link ServiceOptions#setRetryable(boolean)}) are retried, because a timed-out attempt may
 * still have run. Every attempt carries the same request id. A service name that is not
 * registered is never retried: it fails at once with {@link ServiceNotFoundException}.
 * <p>
 * The per-attempt timeout is what saves a call sent to a replica that died silently: set it
 * well under the call's timeout. Without it, one attempt may take the whole budget. In a
 * cluster (a clustered Vertx), an attempt with no answer within its attempt timeout is sent again
 * until the call's budget is spent, whatever {@link #getMaxAttempts()}: until Hazelcast notices a
 * node died (seconds on a loaded machine) the bus keeps routing some attempts to it, and a call
 * should not fail for the replica it was routed to. {@code maxAttempts} still bounds the other
 * retries ({@link FailureCode#OVERLOADED}) and, without a cluster, timed-out attempts too.
 * <p>
 * Whatever the policy, and for calls that are not retryable too, a call refused by a replica that
 * is leaving ({@link FailureCode#LEAVING}: it did not run) is sent again at once, not counted as an
 * attempt.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies a policy when it is handed one.
 */
public class RetryPolicy {

  /** Default number of attempts, the first one included: 3. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;
  /** Default delay before the second attempt: 50 ms. */
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(50);
  /** Default upper bound of the delay between attempts: 2 s. */
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(2);
  /** Default factor between successive delays: 2.0. */
  public static final double DEFAULT_MULTIPLIER = 2.0;
  /** Default jitter: each delay is varied at random by up to 20 % either way. */
  public static final double DEFAULT_JITTER = 0.2;
  /** Default per-attempt timeout: none ({@link Duration#ZERO}), so an attempt may use the whole remaining budget. */
  public static final Duration DEFAULT_ATTEMPT_TIMEOUT = Duration.ZERO;

  private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
  private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
  private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
  private double multiplier = DEFAULT_MULTIPLIER;
  private double jitter = DEFAULT_JITTER;
  private Duration attemptTimeout = DEFAULT_ATTEMPT_TIMEOUT;

  /** A policy with the defaults: 3 attempts, backoff 50 ms doubling up to 2 s, 20 % jitter. */
  public RetryPolicy() {
  }

  /**
   * Copy constructor.
   *
   * @param other the policy to copy
   */
  public RetryPolicy(RetryPolicy other) {
    this.maxAttempts = other.maxAttempts;
    this.initialBackoff = other.initialBackoff;
    this.maxBackoff = other.maxBackoff;
    this.multiplier = other.multiplier;
    this.jitter = other.jitter;
    this.attemptTimeout = other.attemptTimeout;
  }

  /**
   * Reads a policy from JSON, as written by {@link #toJson()}; absent fields keep their defaults.
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is out of range
   */
  public RetryPolicy(JsonObject json) {
    setMaxAttempts(json.getInteger("maxAttempts", DEFAULT_MAX_ATTEMPTS));
    setInitialBackoff(Duration.ofMillis(json.getLong("initialBackoffMillis", DEFAULT_INITIAL_BACKOFF.toMillis())));
    setMaxBackoff(Duration.ofMillis(json.getLong("maxBackoffMillis", DEFAULT_MAX_BACKOFF.toMillis())));
    setMultiplier(json.getDouble("multiplier", DEFAULT_MULTIPLIER));
    setJitter(json.getDouble("jitter", DEFAULT_JITTER));
    setAttemptTimeout(Duration.ofMillis(json.getLong("attemptTimeoutMillis", DEFAULT_ATTEMPT_TIMEOUT.toMillis())));
  }

  /**
   * {@return a policy of a single attempt: nothing is retried}
   */
  public static RetryPolicy none() {
    return new RetryPolicy().setMaxAttempts(1);
  }

  /**
   * {@return the JSON form, read back by {@link #RetryPolicy(JsonObject)}}
   */
  public JsonObject toJson() {
    return new JsonObject()
      .put("maxAttempts", maxAttempts)
      .put("initialBackoffMillis", initialBackoff.toMillis())
      .put("maxBackoffMillis", maxBackoff.toMillis())
      .put("multiplier", multiplier)
      .put("jitter", jitter)
      .put("attemptTimeoutMillis", attemptTimeout.toMillis());
  }

  /**
   * {@return the number of attempts, the first one included}
   */
  public int getMaxAttempts() {
    return maxAttempts;
  }

  /**
   * {@return this}
   *
   * @param maxAttempts the number of attempts, the first one included; at least 1
   * @throws IllegalArgumentException when below 1
   */
  public RetryPolicy setMaxAttempts(int maxAttempts) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1 (1 means no retry), got " + maxAttempts);
    }
    this.maxAttempts = maxAttempts;
    return this;
  }

  /**
   * {@return the delay before the second attempt}
   */
  public Duration getInitialBackoff() {
    return initialBackoff;
  }

  /**
   * {@return this}
   *
   * @param initialBackoff the delay before the second attempt; not negative
   * @throws IllegalArgumentException when negative or null
   */
  public RetryPolicy setInitialBackoff(Duration initialBackoff) {
    this.initialBackoff = nonNegative(initialBackoff, "initialBackoff");
    return this;
  }

  /**
   * {@return the upper bound of the delay between attempts}
   */
  public Duration getMaxBackoff() {
    return maxBackoff;
  }

  /**
   * {@return this}
   *
   * @param maxBackoff the upper bound of the delay between attempts; not negative
   * @throws IllegalArgumentException when negative or null
   */
  public RetryPolicy setMaxBackoff(Duration maxBackoff) {
    this.maxBackoff = nonNegative(maxBackoff, "maxBackoff");
    return this;
  }

  /**
   * {@return the factor between successive delays}
   */
  public double getMultiplier() {
    return multiplier;
  }

  /**
   * {@return this}
   *
   * @param multiplier the factor between successive delays; at least 1.0
   * @throws IllegalArgumentException when below 1.0
   */
  public RetryPolicy setMultiplier(double multiplier) {
    if (!(multiplier >= 1.0)) {
      throw new IllegalArgumentException("multiplier must be at least 1.0, got " + multiplier);
    }
    this.multiplier = multiplier;
    return this;
  }

  /**
   * {@return the jitter, a fraction of each delay}
   */
  public double getJitter() {
    return jitter;
  }

  /**
   * {@return this}
   *
   * @param jitter how much each delay varies at random, as a fraction from 0.0 to 1.0
   * @throws IllegalArgumentException when outside [0, 1]
   */
  public RetryPolicy setJitter(double jitter) {
    if (!(jitter >= 0.0 && jitter <= 1.0)) {
      throw new IllegalArgumentException("jitter must be between 0.0 and 1.0, got " + jitter);
    }
    this.jitter = jitter;
    return this;
  }

  /**
   * {@return the per-attempt timeout; {@link Duration#ZERO} means an attempt may use the whole remaining budget}
   */
  public Duration getAttemptTimeout() {
    return attemptTimeout;
  }

  /**
   * {@return this}
   *
   * @param attemptTimeout how long one attempt may wait for its answer before the next is sent;
   *                       {@link Duration#ZERO} for the whole remaining budget
   * @throws IllegalArgumentException when negative or null
   */
  public RetryPolicy setAttemptTimeout(Duration attemptTimeout) {
    this.attemptTimeout = nonNegative(attemptTimeout, "attemptTimeout");
    return this;
  }

  /**
   * The delay before attempt {@code attempt + 1}, with jitter applied.
   *
   * @param attempt the attempt that just failed, from 1
   * @return the delay in milliseconds, never negative
   */
  public long backoffMillis(int attempt) {
    double base = initialBackoff.toMillis() * Math.pow(multiplier, Math.max(0, attempt - 1));
    base = Math.min(base, maxBackoff.toMillis());
    double spread = base * jitter;
    double delay = base + (spread == 0 ? 0 : ThreadLocalRandom.current().nextDouble(-spread, spread));
    return Math.max(0, Math.round(delay));
  }

  private static Duration nonNegative(Duration d, String what) {
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException(what + " must be zero or positive, got " + d);
    }
    return d;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof RetryPolicy that)) {
      return false;
    }
    return maxAttempts == that.maxAttempts && Double.compare(multiplier, that.multiplier) == 0
      && Double.compare(jitter, that.jitter) == 0 && initialBackoff.equals(that.initialBackoff)
      && maxBackoff.equals(that.maxBackoff) && attemptTimeout.equals(that.attemptTimeout);
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxAttempts, initialBackoff, maxBackoff, multiplier, jitter, attemptTimeout);
  }

  @Override
  public String toString() {
    return "RetryPolicy" + toJson().encode();
  }
}
