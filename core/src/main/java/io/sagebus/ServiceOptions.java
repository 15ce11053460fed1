package io.sagebus;

import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.Objects;

/**
 * How a registered service runs: instances, concurrency and queue limits, timeouts, retries, an
 * optional circuit breaker, an optional result cache, an optional rate limit of its callers, an optional
 * autoscaling policy of its replicas in a cluster, and configuration.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them, so
 * changing an instance after registration changes nothing.
 */
public class ServiceOptions {

  /** Default number of instances (service-task verticles): 1. */
  public static final int DEFAULT_INSTANCES = 1;
  /** Default calls one instance runs at once: 1, so service code need not be thread-safe (like SAGE's services and Ray actors). */
  public static final int DEFAULT_MAX_CONCURRENCY = 1;
  /** Default calls one instance keeps waiting while all its slots are busy: 1000. Beyond, calls fail with OVERLOADED. */
  public static final int DEFAULT_MAX_QUEUED = 1000;
  /** Default call timeout of this service: none ({@link Duration#ZERO}), so the environment's sync or async default applies. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ZERO;
  /** Default time executing calls get to finish when the service is undeployed: 5 s. */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(5);
  /** By default calls are not retryable: a timed-out call may have run. */
  public static final boolean DEFAULT_RETRYABLE = false;

  private int instances = DEFAULT_INSTANCES;
  private int maxConcurrency = DEFAULT_MAX_CONCURRENCY;
  private int maxQueued = DEFAULT_MAX_QUEUED;
  private Duration timeout = DEFAULT_TIMEOUT;
  private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
  private boolean retryable = DEFAULT_RETRYABLE;
  private RetryPolicy retryPolicy;
  private CircuitBreakerPolicy circuitBreaker;
  private CachePolicy cache;
  private RateLimit rateLimit;
  private final java.util.TreeMap<String, BatchPolicy> batching = new java.util.TreeMap<>();
  private AutoscalePolicy autoscale;
  private JsonObject config = new JsonObject();

  /** Options with the defaults. */
  public ServiceOptions() {
  }

  /**
   * Copy constructor.
   *
   * @param other the options to copy
   */
  public ServiceOptions(ServiceOptions other) {
    this.instances = other.instances;
    this.maxConcurrency = other.maxConcurrency;
    this.maxQueued = other.maxQueued;
    this.timeout = other.timeout;
    this.drainTimeout = other.drainTimeout;
    this.retryable = other.retryable;
    this.retryPolicy = other.retryPolicy == null ? null : new RetryPolicy(other.retryPolicy);
    this.circuitBreaker = other.circuitBreaker == null ? null : new CircuitBreakerPolicy(other.circuitBreaker);
    this.cache = other.cache == null ? null : new CachePolicy(other.cache);
    this.rateLimit = other.rateLimit == null ? null : new RateLimit(other.rateLimit);
    other.batching.forEach((m, p) -> this.batching.put(m, new BatchPolicy(p)));
    this.autoscale = other.autoscale == null ? null : new AutoscalePolicy(other.autoscale);
    this.config = other.config.copy();
  }

  /**
   * Reads options from JSON, as written by {@link #toJson()}; absent fields keep their defaults.
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is out of range
   */
  public ServiceOptions(JsonObject json) {
    setInstances(json.getInteger("instances", DEFAULT_INSTANCES));
    setMaxConcurrency(json.getInteger("maxConcurrency", DEFAULT_MAX_CONCURRENCY));
    setMaxQueued(json.getInteger("maxQueued", DEFAULT_MAX_QUEUED));
    setTimeout(Duration.ofMillis(json.getLong("timeoutMillis", DEFAULT_TIMEOUT.toMillis())));
    setDrainTimeout(Duration.ofMillis(json.getLong("drainTimeoutMillis", DEFAULT_DRAIN_TIMEOUT.toMillis())));
    setRetryable(json.getBoolean("retryable", DEFAULT_RETRYABLE));
    JsonObject retry = json.getJsonObject("retryPolicy");
    setRetryPolicy(retry == null ? null : new RetryPolicy(retry));
    JsonObject breaker = json.getJsonObject("circuitBreaker");
    setCircuitBreaker(breaker == null ? null : new CircuitBreakerPolicy(breaker));
    JsonObject cachePolicy = json.getJsonObject("cache");
    setCache(cachePolicy == null ? null : new CachePolicy(cachePolicy));
    JsonObject limit = json.getJsonObject("rateLimit");
    setRateLimit(limit == null ? null : new RateLimit(limit));
    JsonObject batches = json.getJsonObject("batching", new JsonObject());
    for (String method : batches.fieldNames()) {
      if (!(batches.getValue(method) instanceof JsonObject policy)) {
        throw new IllegalArgumentException("batching." + method + " must be a BatchPolicy object");
      }
      setBatching(method, new BatchPolicy(policy));
    }
    JsonObject scaling = json.getJsonObject("autoscale");
    setAutoscale(scaling == null ? null : new AutoscalePolicy(scaling));
    setConfig(json.getJsonObject("config", new JsonObject()));
  }

  /**
   * {@return the JSON form, read back by {@link #ServiceOptions(JsonObject)}}
   */
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put("instances", instances)
      .put("maxConcurrency", maxConcurrency)
      .put("maxQueued", maxQueued)
      .put("timeoutMillis", timeout.toMillis())
      .put("drainTimeoutMillis", drainTimeout.toMillis())
      .put("retryable", retryable)
      .put("config", config.copy());
    if (retryPolicy != null) {
      json.put("retryPolicy", retryPolicy.toJson());
    }
    if (circuitBreaker != null) {
      json.put("circuitBreaker", circuitBreaker.toJson());
    }
    if (cache != null) {
      json.put("cache", cache.toJson());
    }
    if (rateLimit != null) {
      json.put("rateLimit", rateLimit.toJson());
    }
    if (!batching.isEmpty()) {
      JsonObject batches = new JsonObject();
      batching.forEach((m, p) -> batches.put(m, p.toJson()));
      json.put("batching", batches);
    }
    if (autoscale != null) {
      json.put("autoscale", autoscale.toJson());
    }
    return json;
  }

  /**
   * {@return the number of instances deployed}
   */
  public int getInstances() {
    return instances;
  }

  /**
   * {@return this}
   *
   * @param instances how many service-task verticles to deploy; the event bus spreads calls over them. At least 1.
   * @throws IllegalArgumentException when below 1
   */
  public ServiceOptions setInstances(int instances) {
    if (instances < 1) {
      throw new IllegalArgumentException("instances must be at least 1, got " + instances);
    }
    this.instances = instances;
    return this;
  }

  /**
   * {@return how many calls one instance runs at once}
   */
  public int getMaxConcurrency() {
    return maxConcurrency;
  }

  /**
   * {@return this}
   *
   * @param maxConcurrency how many calls one instance runs at once; at least 1. Above 1 the service code must be thread-safe.
   * @throws IllegalArgumentException when below 1
   */
  public ServiceOptions setMaxConcurrency(int maxConcurrency) {
    if (maxConcurrency < 1) {
      throw new IllegalArgumentException("maxConcurrency must be at least 1, got " + maxConcurrency);
    }
    this.maxConcurrency = maxConcurrency;
    return this;
  }

  /**
   * {@return how many calls one instance keeps waiting}
   */
  public int getMaxQueued() {
    return maxQueued;
  }

  /**
   * {@return this}
   *
   * @param maxQueued how many calls one instance keeps waiting while every slot is busy; 0 or more.
   *                  A call beyond fails at once with OVERLOADED.
   * @throws IllegalArgumentException when negative
   */
  public ServiceOptions setMaxQueued(int maxQueued) {
    if (maxQueued < 0) {
      throw new IllegalArgumentException("maxQueued must be 0 or more, got " + maxQueued);
    }
    this.maxQueued = maxQueued;
    return this;
  }

  /**
   * {@return this service's call timeout; {@link Duration#ZERO} means the environment's default}
   */
  public Duration getTimeout() {
    return timeout;
  }

  /**
   * {@return this}
   *
   * @param timeout the timeout of calls to this service when the call names none;
   *                {@link Duration#ZERO} for the environment's sync or async default
   * @throws IllegalArgumentException when negative or null
   */
  public ServiceOptions setTimeout(Duration timeout) {
    if (timeout == null || timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must be zero (environment default) or positive, got " + timeout);
    }
    this.timeout = timeout;
    return this;
  }

  /**
   * {@return how long executing calls may finish when the service is undeployed}
   */
  public Duration getDrainTimeout() {
    return drainTimeout;
  }

  /**
   * {@return this}
   *
   * @param drainTimeout how long executing calls may finish when the service is undeployed,
   *                     after which they are answered STOPPING; zero or positive
   * @throws IllegalArgumentException when negative or null
   */
  public ServiceOptions setDrainTimeout(Duration drainTimeout) {
    if (drainTimeout == null || drainTimeout.isNegative()) {
      throw new IllegalArgumentException("drainTimeout must be zero or positive, got " + drainTimeout);
    }
    this.drainTimeout = drainTimeout;
    return this;
  }

  /**
   * {@return whether calls to this service may be retried unless the call says otherwise}
   */
  public boolean isRetryable() {
    return retryable;
  }

  /**
   * {@return this}
   *
   * @param retryable whether calls to this service may be retried (it is idempotent) unless a call says otherwise
   */
  public ServiceOptions setRetryable(boolean retryable) {
    this.retryable = retryable;
    return this;
  }

  /**
   * {@return the retry policy of calls to this service, or {@code null} for none}
   */
  public RetryPolicy getRetryPolicy() {
    return retryPolicy;
  }

  /**
   * {@return this}
   *
   * @param retryPolicy the retry policy of retryable calls to this service when the call names none; {@code null} for none
   */
  public ServiceOptions setRetryPolicy(RetryPolicy retryPolicy) {
    this.retryPolicy = retryPolicy == null ? null : new RetryPolicy(retryPolicy);
    return this;
  }

  /**
   * {@return the circuit breaker policy of callers of this service, or {@code null} for none (the default)}
   */
  public CircuitBreakerPolicy getCircuitBreaker() {
    return circuitBreaker;
  }

  /**
   * {@return this}
   *
   * @param circuitBreaker a circuit breaker for the callers of this service in each JVM (copied), or {@code null}
   *                       for none; see {@link CircuitBreakerPolicy} for what it counts and how retries interact
   */
  public ServiceOptions setCircuitBreaker(CircuitBreakerPolicy circuitBreaker) {
    this.circuitBreaker = circuitBreaker == null ? null : new CircuitBreakerPolicy(circuitBreaker);
    return this;
  }

  /**
   * {@return the result cache policy of callers of this service, or {@code null} for none (the default)}
   */
  public CachePolicy getCache() {
    return cache;
  }

  /**
   * {@return the rate limit of the callers of this service in each JVM, or {@code null} for none (the default)}
   */
  public RateLimit getRateLimit() {
    return rateLimit;
  }

  /**
   * {@return this}
   *
   * @param cache a result cache for the callers of this service in each JVM (copied), or {@code null} for none;
   *              see {@link CachePolicy} for what is cached and how equal calls in flight share one invocation
   */
  public ServiceOptions setCache(CachePolicy cache) {
    this.cache = cache == null ? null : new CachePolicy(cache);
    return this;
  }

  /**
   * {@return this}
   *
   * @param rateLimit a rate limit for the callers of this service in each JVM (copied), or {@code null} for none:
   *                  calls wait for a permit within their budget, else fail with {@link ServiceThrottledException};
   *                  see {@link RateLimit}
   */
  public ServiceOptions setRateLimit(RateLimit rateLimit) {
    this.rateLimit = rateLimit == null ? null : new RateLimit(rateLimit);
    return this;
  }

  /**
   * {@return the batched methods set here and their policies (a copy; a {@link Batched} annotation adds others)}
   */
  public java.util.Map<String, BatchPolicy> getBatching() {
    java.util.Map<String, BatchPolicy> copy = new java.util.TreeMap<>();
    batching.forEach((m, p) -> copy.put(m, new BatchPolicy(p)));
    return copy;
  }

  /**
   * {@return the autoscaling policy of the service's replicas in a cluster, or {@code null} for a fixed count (the default)}
   */
  public AutoscalePolicy getAutoscale() {
    return autoscale;
  }

  /**
   * {@return this}
   *
   * @param method the name of a method that takes one {@code List} and returns a {@code List} of the same
   *               length (or a Future of one); registering the service fails when it has no such method
   * @param policy how its calls are gathered (copied), overriding a {@link Batched} annotation on it; {@code null}
   *               to remove a policy set here before
   * @throws IllegalArgumentException when the method name is null or empty
   */
  public ServiceOptions setBatching(String method, BatchPolicy policy) {
    if (method == null || method.isEmpty()) {
      throw new IllegalArgumentException("The batched method name must not be null or empty");
    }
    if (policy == null) {
      batching.remove(method);
    } else {
      batching.put(method, new BatchPolicy(policy));
    }
    return this;
  }

  /**
   * {@return this}
   *
   * @param autoscale how a cluster grows and shrinks the service's replicas with its load (copied), or {@code null}
   *                  for {@link #getInstances()} replicas always. With a policy a cluster places
   *                  {@link AutoscalePolicy#initialReplicas()} replicas at deploy time instead of {@code instances};
   *                  outside a cluster the policy is not acted on. See {@link AutoscalePolicy}
   */
  public ServiceOptions setAutoscale(AutoscalePolicy autoscale) {
    this.autoscale = autoscale == null ? null : new AutoscalePolicy(autoscale);
    return this;
  }

  /**
   * {@return the configuration handed to every instance through {@link ServiceContext#config()}}
   */
  public JsonObject getConfig() {
    return config;
  }

  /**
   * {@return this}
   *
   * @param config configuration handed to every instance through {@link ServiceContext#config()}; not null
   * @throws NullPointerException when null
   */
  public ServiceOptions setConfig(JsonObject config) {
    this.config = Objects.requireNonNull(config, "config").copy();
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ServiceOptions that && toJson().equals(that.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "ServiceOptions" + toJson().encode();
  }
}
