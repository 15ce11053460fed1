package io.sagebus;

import io.vertx.core.json.JsonObject;

import java.time.Duration;

/**
 * How a cluster grows and shrinks the replicas of a service with its load, set with
 * {@link ServiceOptions#setAutoscale(AutoscalePolicy)}; the settings are those of Ray Serve's
 * {@code autoscaling_config} ({@code min_replicas}, {@code max_replicas}, {@code initial_replicas},
 * {@code target_ongoing_requests}, {@code upscale_delay_s}, {@code downscale_delay_s}) with Ray's defaults.
 * <p>
 * Every node publishes, twice a second, the calls its replicas of each service are running and
 * holding queued. The oldest member of the cluster adds them up per service and wants
 * {@code ceil(calls / targetInFlight)} replicas, kept within {@code [minReplicas, maxReplicas]}. It
 * adds replicas once that want has stayed above the replicas placed for {@link #getUpscaleDelay()},
 * and drains some once it has stayed below for {@link #getDownscaleDelay()}, moving to the want that
 * held through the whole delay (the lowest seen while waiting to grow, the highest while waiting to
 * shrink); the replicas go to,
 * and leave, the nodes that the placement rule picks (the fewest replicas of the service first,
 * when adding; the most, when draining). A drained replica finishes its calls first.
 * <p>
 * With {@code minReplicas} 0 a service may have no replica at all: a call that finds none asks the
 * oldest member for one and waits for it within its own budget (its timeout).
 * <p>
 * Outside a cluster (a {@link LocalEnvironment}) the policy is kept but not acted on: the service
 * runs {@link ServiceOptions#getInstances()} instances.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them.
 */
public class AutoscalePolicy {

  /** Default fewest replicas: 1 (Ray's {@code min_replicas}). */
  public static final int DEFAULT_MIN_REPLICAS = 1;
  /** Default most replicas: 1 (Ray's {@code max_replicas}): set it to let the service grow. */
  public static final int DEFAULT_MAX_REPLICAS = 1;
  /** Default replicas at deploy time: none set ({@code -1}), so {@link #getMinReplicas()} (Ray's {@code initial_replicas}). */
  public static final int DEFAULT_INITIAL_REPLICAS = -1;
  /** Default calls in flight (running and queued) per replica that scaling aims at: 2 (Ray's {@code target_ongoing_requests}). */
  public static final double DEFAULT_TARGET_IN_FLIGHT = 2;
  /** Default time a want for more replicas must last before they are added: 30 s (Ray's {@code upscale_delay_s}). */
  public static final Duration DEFAULT_UPSCALE_DELAY = Duration.ofSeconds(30);
  /** Default time a want for fewer replicas must last before some are drained: 600 s (Ray's {@code downscale_delay_s}). */
  public static final Duration DEFAULT_DOWNSCALE_DELAY = Duration.ofSeconds(600);
  /** The most replicas a policy may allow: 256. */
  public static final int MAX_REPLICAS_LIMIT = 256;

  private int minReplicas = DEFAULT_MIN_REPLICAS;
  private int maxReplicas = DEFAULT_MAX_REPLICAS;
  private int initialReplicas = DEFAULT_INITIAL_REPLICAS;
  private double targetInFlight = DEFAULT_TARGET_IN_FLIGHT;
  private Duration upscaleDelay = DEFAULT_UPSCALE_DELAY;
  private Duration downscaleDelay = DEFAULT_DOWNSCALE_DELAY;

  /** A policy with the defaults. */
  public AutoscalePolicy() {
  }

  /**
   * Copy constructor.
   *
   * @param other the policy to copy
   */
  public AutoscalePolicy(AutoscalePolicy other) {
    this.minReplicas = other.minReplicas;
    this.maxReplicas = other.maxReplicas;
    this.initialReplicas = other.initialReplicas;
    this.targetInFlight = other.targetInFlight;
    this.upscaleDelay = other.upscaleDelay;
    this.downscaleDelay = other.downscaleDelay;
  }

  /**
   * Reads a policy from JSON, as written by {@link #toJson()}; absent fields keep their defaults.
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is out of range, or the bounds do not fit together
   */
  public AutoscalePolicy(JsonObject json) {
    this.minReplicas = json.getInteger("minReplicas", DEFAULT_MIN_REPLICAS);
    this.maxReplicas = json.getInteger("maxReplicas", DEFAULT_MAX_REPLICAS);
    this.initialReplicas = json.getInteger("initialReplicas", DEFAULT_INITIAL_REPLICAS);
    this.targetInFlight = json.getNumber("targetInFlight", DEFAULT_TARGET_IN_FLIGHT).doubleValue();
    this.upscaleDelay = Duration.ofMillis(json.getLong("upscaleDelayMillis", DEFAULT_UPSCALE_DELAY.toMillis()));
    this.downscaleDelay = Duration.ofMillis(json.getLong("downscaleDelayMillis", DEFAULT_DOWNSCALE_DELAY.toMillis()));
    validate();
  }

  /**
   * {@return a policy between {@code min} and {@code max} replicas aiming at {@code targetInFlight} calls per replica}
   * The delays keep their defaults.
   *
   * @param min            the fewest replicas, see {@link #setReplicas(int, int)}
   * @param max            the most replicas
   * @param targetInFlight calls in flight per replica, see {@link #setTargetInFlight(double)}
   * @throws IllegalArgumentException when a value is out of range
   */
  public static AutoscalePolicy create(int min, int max, double targetInFlight) {
    return new AutoscalePolicy().setReplicas(min, max).setTargetInFlight(targetInFlight);
  }

  /**
   * {@return the JSON form, read back by {@link #AutoscalePolicy(JsonObject)}}
   */
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put("minReplicas", minReplicas)
      .put("maxReplicas", maxReplicas)
      .put("targetInFlight", targetInFlight)
      .put("upscaleDelayMillis", upscaleDelay.toMillis())
      .put("downscaleDelayMillis", downscaleDelay.toMillis());
    if (initialReplicas >= 0) {
      json.put("initialReplicas", initialReplicas);
    }
    return json;
  }

  private void validate() {
    if (minReplicas < 0) {
      throw new IllegalArgumentException("minReplicas must be 0 or more, got " + minReplicas);
    }
    if (maxReplicas < 1 || maxReplicas > MAX_REPLICAS_LIMIT) {
      throw new IllegalArgumentException("maxReplicas must be from 1 to " + MAX_REPLICAS_LIMIT + ", got " + maxReplicas);
    }
    if (minReplicas > maxReplicas) {
      throw new IllegalArgumentException("minReplicas (" + minReplicas + ") must not exceed maxReplicas (" + maxReplicas
        + ")");
    }
    if (initialReplicas != DEFAULT_INITIAL_REPLICAS && (initialReplicas < minReplicas || initialReplicas > maxReplicas)) {
      throw new IllegalArgumentException("initialReplicas must be from minReplicas (" + minReplicas + ") to maxReplicas ("
        + maxReplicas + "), or -1 for minReplicas; got " + initialReplicas);
    }
    if (!(targetInFlight > 0) || Double.isInfinite(targetInFlight)) {
      throw new IllegalArgumentException("targetInFlight must be a positive number, got " + targetInFlight);
    }
    if (upscaleDelay == null || upscaleDelay.isNegative()) {
      throw new IllegalArgumentException("upscaleDelay must be zero or positive, got " + upscaleDelay);
    }
    if (downscaleDelay == null || downscaleDelay.isNegative()) {
      throw new IllegalArgumentException("downscaleDelay must be zero or positive, got " + downscaleDelay);
    }
  }

  /**
   * {@return the fewest replicas the service keeps; 0 allows none}
   */
  public int getMinReplicas() {
    return minReplicas;
  }

  /**
   * {@return the most replicas the service gets}
   */
  public int getMaxReplicas() {
    return maxReplicas;
  }

  /**
   * {@return this}
   * Both bounds are set at once, so that they are checked together.
   *
   * @param min the fewest replicas, 0 or more; with 0 a service without calls may have no replica
   * @param max the most replicas, from {@code max(1, min)} to {@link #MAX_REPLICAS_LIMIT}
   * @throws IllegalArgumentException when a bound is out of range, {@code min > max}, or the initial count set
   *                                  falls outside them
   */
  public AutoscalePolicy setReplicas(int min, int max) {
    int oldMin = minReplicas;
    int oldMax = maxReplicas;
    minReplicas = min;
    maxReplicas = max;
    try {
      validate();
    } catch (IllegalArgumentException e) {
      minReplicas = oldMin;
      maxReplicas = oldMax;
      throw e;
    }
    return this;
  }

  /**
   * {@return the replicas placed when the service is deployed, or -1 when none is set ({@link #getMinReplicas()})}
   */
  public int getInitialReplicas() {
    return initialReplicas;
  }

  /**
   * {@return the replicas placed when the service is deployed: the initial count when set, else the minimum}
   */
  public int initialReplicas() {
    return initialReplicas < 0 ? minReplicas : initialReplicas;
  }

  /**
   * {@return this}
   *
   * @param initialReplicas the replicas placed when the service is deployed, within the bounds; -1 for
   *                        {@link #getMinReplicas()}
   * @throws IllegalArgumentException when outside the bounds and not -1
   */
  public AutoscalePolicy setInitialReplicas(int initialReplicas) {
    int old = this.initialReplicas;
    this.initialReplicas = initialReplicas;
    try {
      validate();
    } catch (IllegalArgumentException e) {
      this.initialReplicas = old;
      throw e;
    }
    return this;
  }

  /**
   * {@return the calls in flight per replica that scaling aims at}
   */
  public double getTargetInFlight() {
    return targetInFlight;
  }

  /**
   * {@return this}
   *
   * @param targetInFlight the calls in flight (running and queued at the replicas) per replica that scaling aims at;
   *                       positive. With {@link ServiceOptions#getMaxConcurrency()} {@code c}, a target of {@code c}
   *                       lets replicas run full with no queue; lower keeps latency down at the cost of replicas
   * @throws IllegalArgumentException when not positive and finite
   */
  public AutoscalePolicy setTargetInFlight(double targetInFlight) {
    if (!(targetInFlight > 0) || Double.isInfinite(targetInFlight)) {
      throw new IllegalArgumentException("targetInFlight must be a positive number, got " + targetInFlight);
    }
    this.targetInFlight = targetInFlight;
    return this;
  }

  /**
   * {@return how long a want for more replicas must last before they are added}
   */
  public Duration getUpscaleDelay() {
    return upscaleDelay;
  }

  /**
   * {@return this}
   *
   * @param upscaleDelay how long a want for more replicas must last before they are added; zero or positive. A
   *                     call to a service with no replica is never held by it
   * @throws IllegalArgumentException when null or negative
   */
  public AutoscalePolicy setUpscaleDelay(Duration upscaleDelay) {
    if (upscaleDelay == null || upscaleDelay.isNegative()) {
      throw new IllegalArgumentException("upscaleDelay must be zero or positive, got " + upscaleDelay);
    }
    this.upscaleDelay = upscaleDelay;
    return this;
  }

  /**
   * {@return how long a want for fewer replicas must last before some are drained}
   */
  public Duration getDownscaleDelay() {
    return downscaleDelay;
  }

  /**
   * {@return this}
   *
   * @param downscaleDelay how long a want for fewer replicas must last before some are drained; zero or positive
   * @throws IllegalArgumentException when null or negative
   */
  public AutoscalePolicy setDownscaleDelay(Duration downscaleDelay) {
    if (downscaleDelay == null || downscaleDelay.isNegative()) {
      throw new IllegalArgumentException("downscaleDelay must be zero or positive, got " + downscaleDelay);
    }
    this.downscaleDelay = downscaleDelay;
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AutoscalePolicy that && toJson().equals(that.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "AutoscalePolicy" + toJson().encode();
  }
}
