package io.sagebus;

import io.vertx.core.json.JsonObject;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A snapshot of one service's statistics, summed over its instances in this JVM since it was
 * registered. Counters on the service side ({@code requests}, {@code succeeded}, {@code errors},
 * {@code rejected}, execution times) come from its service tasks; {@code timeouts} and
 * {@code retries}, and the result cache's {@code cacheHits}, {@code cacheMisses} and
 * {@code cacheCoalesced} (see {@link CachePolicy}), are counted by the callers in this JVM; {@code inFlight} and {@code queued}
 * are gauges read at the moment of the snapshot.
 *
 * @param service              the service name
 * @param instances            instances running now
 * @param requests             requests received by the instances
 * @param succeeded            calls answered with a result
 * @param errors               calls answered with a failure, by code ({@link FailureCode#OVERLOADED} counts the rejected ones)
 * @param rejected             calls refused because an instance was full (same as {@code errors.get(OVERLOADED)})
 * @param timeouts             calls that ended in {@link ServiceTimeoutException} at a caller
 * @param retries              attempts sent again by a caller's retry policy
 * @param meanExecutionMicros  mean execution time of calls that ran, in microseconds
 * @param maxExecutionMicros   longest execution time, in microseconds
 * @param inFlight             calls executing now
 * @param queued               calls waiting for a free slot now
 * @param cacheHits            calls answered from this JVM's result cache without being sent
 * @param cacheMisses          calls to a cached method that found no result or equal call in flight, and were sent
 * @param cacheCoalesced       calls that shared the invocation of an equal call in flight instead of being sent
 * @param throttled            calls from this JVM that waited for a permit of the service's {@link RateLimit}
 * @param throttleRejected     calls from this JVM failed with {@link ServiceThrottledException} (no permit within their budget)
 * @param throttleWaitMillis   total time calls from this JVM waited for a permit, in milliseconds
 * @param batches              batched methods (see {@link BatchPolicy}) that ran a batch here, by method name
 * @param executionTimes       the execution times of the calls that ran, as a histogram (percentiles:
 *                             {@link #p50ExecutionMicros()}, {@link #p99ExecutionMicros()}; of an interval: the
 *                             difference of two snapshots, {@link LatencyHistogram#minus(LatencyHistogram)})
 */
public record ServiceStats(String service, int instances, long requests, long succeeded, Map<FailureCode, Long> errors,
                           long rejected, long timeouts, long retries, long meanExecutionMicros,
                           long maxExecutionMicros, int inFlight, int queued, long cacheHits,
                           long cacheMisses, long cacheCoalesced,
                           long throttled, long throttleRejected, long throttleWaitMillis,
                           Map<String, BatchStats> batches, LatencyHistogram executionTimes) {

  /**
   * Keeps unmodifiable copies of {@code errors} and {@code batches} ({@code null} batches: none; {@code null}
   * execution times: an empty histogram).
   */
  public ServiceStats {
    EnumMap<FailureCode, Long> copy = new EnumMap<>(FailureCode.class);
    copy.putAll(errors);
    errors = Collections.unmodifiableMap(copy);
    batches = batches == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(batches));
    executionTimes = executionTimes == null ? LatencyHistogram.empty() : executionTimes;
  }

  /**
   * Statistics without a histogram of execution times (an empty one).
   *
   * @param service              the service name
   * @param instances            instances running now
   * @param requests             requests received by the instances
   * @param succeeded            calls answered with a result
   * @param errors               calls answered with a failure, by code
   * @param rejected             calls refused because an instance was full
   * @param timeouts             calls that ended in {@link ServiceTimeoutException} at a caller
   * @param retries              attempts sent again by a caller's retry policy
   * @param meanExecutionMicros  mean execution time of calls that ran, in microseconds
   * @param maxExecutionMicros   longest execution time, in microseconds
   * @param inFlight             calls executing now
   * @param queued               calls waiting for a free slot now
   * @param cacheHits            calls answered from this JVM's result cache without being sent
   * @param cacheMisses          calls to a cached method that were sent
   * @param cacheCoalesced       calls that shared the invocation of an equal call in flight
   * @param throttled            calls from this JVM that waited for a permit
   * @param throttleRejected     calls from this JVM failed with {@link ServiceThrottledException}
   * @param throttleWaitMillis   total time calls from this JVM waited for a permit, in milliseconds
   * @param batches              batched methods that ran a batch here, by method name
   */
  public ServiceStats(String service, int instances, long requests, long succeeded, Map<FailureCode, Long> errors,
                      long rejected, long timeouts, long retries, long meanExecutionMicros, long maxExecutionMicros,
                      int inFlight, int queued, long cacheHits, long cacheMisses, long cacheCoalesced, long throttled,
                      long throttleRejected, long throttleWaitMillis, Map<String, BatchStats> batches) {
    this(service, instances, requests, succeeded, errors, rejected, timeouts, retries, meanExecutionMicros,
      maxExecutionMicros, inFlight, queued, cacheHits, cacheMisses, cacheCoalesced, throttled, throttleRejected,
      throttleWaitMillis, batches, LatencyHistogram.empty());
  }

  /**
   * {@return the median execution time of the calls that ran, in microseconds (at most 12.5% above the true
   *     value; 0 before any call ran)}
   */
  public long p50ExecutionMicros() {
    return executionTimes.percentile(0.5);
  }

  /**
   * {@return the 99th percentile of the execution times of the calls that ran, in microseconds (at most 12.5%
   *     above the true value; 0 before any call ran)}
   */
  public long p99ExecutionMicros() {
    return executionTimes.percentile(0.99);
  }

  /**
   * {@return how many calls failed with {@code code}}
   *
   * @param code a failure code
   */
  public long errors(FailureCode code) {
    return errors.getOrDefault(code, 0L);
  }

  /**
   * {@return the JSON form, read back by {@link #fromJson(JsonObject)}}
   */
  public JsonObject toJson() {
    JsonObject errs = new JsonObject();
    errors.forEach((code, n) -> errs.put(code.name(), n));
    return new JsonObject()
      .put("service", service)
      .put("instances", instances)
      .put("requests", requests)
      .put("succeeded", succeeded)
      .put("errors", errs)
      .put("rejected", rejected)
      .put("timeouts", timeouts)
      .put("retries", retries)
      .put("meanExecutionMicros", meanExecutionMicros)
      .put("maxExecutionMicros", maxExecutionMicros)
      .put("p50ExecutionMicros", p50ExecutionMicros())
      .put("p99ExecutionMicros", p99ExecutionMicros())
      .put("inFlight", inFlight)
      .put("queued", queued)
      .put("cacheHits", cacheHits)
      .put("cacheMisses", cacheMisses)
      .put("cacheCoalesced", cacheCoalesced)
      .put("throttled", throttled)
      .put("throttleRejected", throttleRejected)
      .put("throttleWaitMillis", throttleWaitMillis)
      .put("batches", batchesJson())
      .put("executionTimes", executionTimes.toJson());
  }

  private JsonObject batchesJson() {
    JsonObject json = new JsonObject();
    batches.forEach((method, b) -> json.put(method, b.toJson()));
    return json;
  }

  /**
   * {@return the statistics}
   *
   * @param json the form written by {@link #toJson()}
   */
  public static ServiceStats fromJson(JsonObject json) {
    EnumMap<FailureCode, Long> errs = new EnumMap<>(FailureCode.class);
    json.getJsonObject("errors", new JsonObject()).forEach(e -> errs.put(FailureCode.valueOf(e.getKey()), ((Number) e.getValue()).longValue()));
    return new ServiceStats(json.getString("service"), json.getInteger("instances", 0), json.getLong("requests", 0L),
      json.getLong("succeeded", 0L), errs, json.getLong("rejected", 0L), json.getLong("timeouts", 0L),
      json.getLong("retries", 0L), json.getLong("meanExecutionMicros", 0L), json.getLong("maxExecutionMicros", 0L),
      json.getInteger("inFlight", 0), json.getInteger("queued", 0), json.getLong("cacheHits", 0L),
      json.getLong("cacheMisses", 0L), json.getLong("cacheCoalesced", 0L), json.getLong("throttled", 0L),
      json.getLong("throttleRejected", 0L), json.getLong("throttleWaitMillis", 0L), batchesOf(json),
      LatencyHistogram.fromJson(json.getJsonArray("executionTimes")));
  }

  private static Map<String, BatchStats> batchesOf(JsonObject json) {
    Map<String, BatchStats> batches = new TreeMap<>();
    json.getJsonObject("batches", new JsonObject()).forEach(e -> batches.put(e.getKey(),
      BatchStats.fromJson((JsonObject) e.getValue())));
    return batches;
  }
}
