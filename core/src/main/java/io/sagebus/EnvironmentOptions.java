package io.sagebus;

import io.vertx.core.json.JsonObject;

import java.time.Duration;

/**
 * Options of an environment: the default timeouts of calls that name none, whether an
 * environment that owns its Vertx records metrics, and whether a registered service starts on its
 * first call.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them.
 */
public class EnvironmentOptions {

  /** Default timeout of a sync call ({@link ServiceClient#call}): 10 s, as in SAGE. */
  public static final Duration DEFAULT_SYNC_TIMEOUT = Duration.ofSeconds(10);
  /** Default timeout of an async call ({@link ServiceClient#callAsync}): 30 s, as in SAGE. */
  public static final Duration DEFAULT_ASYNC_TIMEOUT = Duration.ofSeconds(30);

  /** By default an environment creates its own Vertx without metrics: nothing is recorded, nothing is paid. */
  public static final boolean DEFAULT_METRICS_ENABLED = false;

  /**
   * By default a service registered in a {@link LocalEnvironment} starts on its first call, as a
   * standalone call does in SAGE, when nothing (start, deploy or a job) has started it yet.
   */
  public static final boolean DEFAULT_START_ON_CALL = true;

  private Duration syncTimeout = DEFAULT_SYNC_TIMEOUT;
  private boolean startOnCall = DEFAULT_START_ON_CALL;
  private Duration asyncTimeout = DEFAULT_ASYNC_TIMEOUT;
  private boolean metricsEnabled = DEFAULT_METRICS_ENABLED;

  /** Options with the defaults. */
  public EnvironmentOptions() {
  }

  /**
   * Copy constructor.
   *
   * @param other the options to copy
   */
  public EnvironmentOptions(EnvironmentOptions other) {
    this.syncTimeout = other.syncTimeout;
    this.asyncTimeout = other.asyncTimeout;
    this.metricsEnabled = other.metricsEnabled;
    this.startOnCall = other.startOnCall;
  }

  /**
   * Reads options from JSON, as written by {@link #toJson()}; absent fields keep their defaults.
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is out of range
   */
  public EnvironmentOptions(JsonObject json) {
    setSyncTimeout(Duration.ofMillis(json.getLong("syncTimeoutMillis", DEFAULT_SYNC_TIMEOUT.toMillis())));
    setAsyncTimeout(Duration.ofMillis(json.getLong("asyncTimeoutMillis", DEFAULT_ASYNC_TIMEOUT.toMillis())));
    setMetricsEnabled(json.getBoolean("metricsEnabled", DEFAULT_METRICS_ENABLED));
    setStartOnCall(json.getBoolean("startOnCall", DEFAULT_START_ON_CALL));
  }

  /**
   * {@return the JSON form, read back by {@link #EnvironmentOptions(JsonObject)}}
   */
  public JsonObject toJson() {
    return new JsonObject()
      .put("syncTimeoutMillis", syncTimeout.toMillis())
      .put("asyncTimeoutMillis", asyncTimeout.toMillis())
      .put("metricsEnabled", metricsEnabled)
      .put("startOnCall", startOnCall);
  }

  /**
   * {@return the timeout of sync calls that name none and whose service names none}
   */
  public Duration getSyncTimeout() {
    return syncTimeout;
  }

  /**
   * {@return this}
   *
   * @param syncTimeout the timeout of sync calls that name none and whose service names none; positive
   * @throws IllegalArgumentException when not positive
   */
  public EnvironmentOptions setSyncTimeout(Duration syncTimeout) {
    this.syncTimeout = positive(syncTimeout, "syncTimeout");
    return this;
  }

  /**
   * {@return the timeout of async calls that name none and whose service names none}
   */
  public Duration getAsyncTimeout() {
    return asyncTimeout;
  }

  /**
   * {@return this}
   *
   * @param asyncTimeout the timeout of async calls that name none and whose service names none; positive
   * @throws IllegalArgumentException when not positive
   */
  public EnvironmentOptions setAsyncTimeout(Duration asyncTimeout) {
    this.asyncTimeout = positive(asyncTimeout, "asyncTimeout");
    return this;
  }

  /**
   * {@return whether an environment that creates its own Vertx creates it with metrics}
   */
  public boolean isMetricsEnabled() {
    return metricsEnabled;
  }

  /**
   * {@return this}
   *
   * @param metricsEnabled whether an environment that creates its own Vertx
   *                       ({@link LocalEnvironment#create(String, EnvironmentOptions)}) creates it with
   *                       Micrometer metrics and a Prometheus registry (see {@link io.sagebus.ops.SagebusMetrics}).
   *                       An environment in a Vertx it is given records its metrics whenever that Vertx has a
   *                       Micrometer registry, whatever this says.
   */
  public EnvironmentOptions setMetricsEnabled(boolean metricsEnabled) {
    this.metricsEnabled = metricsEnabled;
    return this;
  }

  /**
   * {@return whether a registered service that is not running starts on its first call}
   */
  public boolean isStartOnCall() {
    return startOnCall;
  }

  /**
   * {@return this}
   *
   * @param startOnCall whether a call to a service registered in a {@link LocalEnvironment} that nothing
   *                    has started ({@link LocalEnvironment#start()}, {@link LocalEnvironment#deploy(String)}
   *                    or a job) starts it, as {@code deploy} would, and then runs; it stops as any other, on
   *                    {@code undeploy} or {@code close()}. When {@code false}, such a call fails at once
   *                    with a {@link ServiceCallException} saying to call {@code start()}. In a cluster, a
   *                    call to a service whose replicas are being placed waits for them either way.
   */
  public EnvironmentOptions setStartOnCall(boolean startOnCall) {
    this.startOnCall = startOnCall;
    return this;
  }

  private static Duration positive(Duration d, String what) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
    return d;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EnvironmentOptions that && syncTimeout.equals(that.syncTimeout)
      && asyncTimeout.equals(that.asyncTimeout) && metricsEnabled == that.metricsEnabled
      && startOnCall == that.startOnCall;
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * syncTimeout.hashCode() + asyncTimeout.hashCode()) + Boolean.hashCode(metricsEnabled))
      + Boolean.hashCode(startOnCall);
  }

  @Override
  public String toString() {
    return "EnvironmentOptions" + toJson().encode();
  }
}
