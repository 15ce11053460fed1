package io.sagebus;

import io.opentelemetry.api.OpenTelemetry;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of an environment: the default timeouts of calls that name none, whether an
 * environment that owns its Vertx records metrics, whether a registered service starts on its
 * first call, and whether its calls, services and jobs are traced with OpenTelemetry.
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

  /** By default nothing is traced: no span is made and no trace header is sent. */
  public static final boolean DEFAULT_TRACING_ENABLED = false;

  private Duration syncTimeout = DEFAULT_SYNC_TIMEOUT;
  private boolean tracingEnabled = DEFAULT_TRACING_ENABLED;
  private OpenTelemetry openTelemetry;
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
    this.tracingEnabled = other.tracingEnabled;
    this.openTelemetry = other.openTelemetry;
  }

  /**
   * Reads options from JSON, as written by {@link #toJson()}; absent fields keep their defaults.
   * An {@link OpenTelemetry} instance has no JSON form: it is set in code.
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is out of range
   */
  public EnvironmentOptions(JsonObject json) {
    setSyncTimeout(Duration.ofMillis(json.getLong("syncTimeoutMillis", DEFAULT_SYNC_TIMEOUT.toMillis())));
    setAsyncTimeout(Duration.ofMillis(json.getLong("asyncTimeoutMillis", DEFAULT_ASYNC_TIMEOUT.toMillis())));
    setMetricsEnabled(json.getBoolean("metricsEnabled", DEFAULT_METRICS_ENABLED));
    setStartOnCall(json.getBoolean("startOnCall", DEFAULT_START_ON_CALL));
    setTracingEnabled(json.getBoolean("tracingEnabled", DEFAULT_TRACING_ENABLED));
  }

  /**
   * {@return the JSON form, read back by {@link #EnvironmentOptions(JsonObject)}}
   */
  public JsonObject toJson() {
    return new JsonObject()
      .put("syncTimeoutMillis", syncTimeout.toMillis())
      .put("asyncTimeoutMillis", asyncTimeout.toMillis())
      .put("metricsEnabled", metricsEnabled)
      .put("startOnCall", startOnCall)
      .put("tracingEnabled", tracingEnabled);
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

  /**
   * {@return whether the environment traces its calls, services and jobs}
   */
  public boolean isTracingEnabled() {
    return tracingEnabled;
  }

  /**
   * {@return this}
   *
   * @param tracingEnabled whether the environment makes OpenTelemetry spans: a span per call with a client
   *                       span per attempt in the caller, a server span in the service instance, a span per
   *                       job and, per record, a span for each operator that calls services (README,
   *                       "Tracing"). The trace context then travels in event-bus headers ({@code traceparent}).
   *                       It uses the {@link #setOpenTelemetry OpenTelemetry handed in}, else the SDK configured
   *                       from the {@code OTEL_*} variables, which needs
   *                       {@code io.opentelemetry:opentelemetry-sdk-extension-autoconfigure} on the class path
   *                       (creating the environment fails with an {@link IllegalStateException} saying so
   *                       otherwise). Off, nothing is made and no header is sent.
   */
  public EnvironmentOptions setTracingEnabled(boolean tracingEnabled) {
    this.tracingEnabled = tracingEnabled;
    return this;
  }

  /**
   * {@return the OpenTelemetry to trace with, or {@code null} to configure the SDK from the variables}
   */
  public OpenTelemetry getOpenTelemetry() {
    return openTelemetry;
  }

  /**
   * {@return this}
   *
   * @param openTelemetry the OpenTelemetry to trace with when {@link #setTracingEnabled tracing is enabled}
   *                      (it does not enable it), or {@code null} for the SDK configured from the
   *                      {@code OTEL_*} variables. The environment does not close it; one it configured itself
   *                      it closes (flushing its spans) when it closes.
   */
  public EnvironmentOptions setOpenTelemetry(OpenTelemetry openTelemetry) {
    this.openTelemetry = openTelemetry;
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
      && startOnCall == that.startOnCall && tracingEnabled == that.tracingEnabled
      && openTelemetry == that.openTelemetry;
  }

  @Override
  public int hashCode() {
    return Objects.hash(syncTimeout, asyncTimeout, metricsEnabled, startOnCall, tracingEnabled,
      System.identityHashCode(openTelemetry));
  }

  @Override
  public String toString() {
    return "EnvironmentOptions" + toJson().encode();
  }
}
