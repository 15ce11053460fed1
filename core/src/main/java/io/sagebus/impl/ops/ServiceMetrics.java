package io.sagebus.impl.ops;

import io.sagebus.FailureCode;
import io.sagebus.LatencyHistogram;
import io.sagebus.ServiceStats;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one service in one JVM, written by its service tasks and by callers.
 */
public final class ServiceMetrics {

  private final LongAdder requests = new LongAdder();
  private final LongAdder succeeded = new LongAdder();
  private final LongAdder timeouts = new LongAdder();
  private final LongAdder retries = new LongAdder();
  private final LongAdder cacheHits = new LongAdder();
  private final LongAdder cacheMisses = new LongAdder();
  private final LongAdder cacheCoalesced = new LongAdder();
  private final LongAdder executions = new LongAdder();
  private final LongAdder executionMicros = new LongAdder();
  private final AtomicLong maxExecutionMicros = new AtomicLong();
  private final LongAdder throttled = new LongAdder();
  private final LongAdder throttleRejected = new LongAdder();
  private final LongAdder throttleWaitNanos = new LongAdder();
  private final Map<FailureCode, LongAdder> errors = new EnumMap<>(FailureCode.class);
  private final Map<String, BatchCounters> batches = new java.util.concurrent.ConcurrentHashMap<>();
  /** Execution times by {@link LatencyHistogram} bucket. */
  private final LongAdder[] executionTimes = new LongAdder[LatencyHistogram.BUCKETS];

  /** Counters at zero. */
  public ServiceMetrics() {
    for (FailureCode c : FailureCode.values()) {
      errors.put(c, new LongAdder());
    }
    for (int b = 0; b < executionTimes.length; b++) {
      executionTimes[b] = new LongAdder();
    }
  }

  /** A request reached a service task. */
  public void request() {
    requests.increment();
  }

  /**
   * A call ran and was answered with a result.
   *
   * @param micros its execution time
   */
  public void succeeded(long micros) {
    succeeded.increment();
    executed(micros);
  }

  /**
   * A call ran and failed.
   *
   * @param micros its execution time
   */
  public void executed(long micros) {
    executions.increment();
    executionMicros.add(micros);
    if (micros > maxExecutionMicros.get()) { // a write only when it grows
      maxExecutionMicros.accumulateAndGet(micros, Math::max);
    }
    executionTimes[LatencyHistogram.bucketOf(micros)].increment();
  }

  /**
   * A call was answered with a failure.
   *
   * @param code why
   */
  public void failed(FailureCode code) {
    errors.get(code).increment();
  }

  /** A caller gave up on a call: its budget ran out. */
  public void timedOut() {
    timeouts.increment();
  }

  /** A caller sent an attempt again. */
  public void retried() {
    retries.increment();
  }

  /** A caller's call was answered from the result cache. */
  public void cacheHit() {
    cacheHits.increment();
  }

  /** A caller's call to a cached method found nothing to share and was sent. */
  public void cacheMiss() {
    cacheMisses.increment();
  }

  /** A caller's call shared the invocation of an equal call in flight. */
  public void cacheCoalesced() {
    cacheCoalesced.increment();
  }

  /**
   * A caller's call waited for a permit of the service's rate limit.
   *
   * @param nanos how long it waits
   */
  public void throttled(long nanos) {
    throttled.increment();
    throttleWaitNanos.add(nanos);
  }

  /** A caller's call found no permit of the service's rate limit within its budget. */
  public void throttleRejected() {
    throttleRejected.increment();
  }

  /**
   * A batch of a batched method began.
   *
   * @param method    the method
   * @param size      its items
   * @param waitNanos the sum of its items' waits, from their arrival to now
   * @param maxWaitNanos the longest of those waits
   */
  public void batch(String method, int size, long waitNanos, long maxWaitNanos) {
    BatchCounters b = batches.computeIfAbsent(method, m -> new BatchCounters());
    b.batches.increment();
    b.items.add(size);
    b.maxSize.accumulateAndGet(size, Math::max);
    b.waitNanos.add(waitNanos);
    b.maxWaitNanos.accumulateAndGet(maxWaitNanos, Math::max);
  }

  /** The counters of one batched method. */
  private static final class BatchCounters {
    final LongAdder batches = new LongAdder();
    final LongAdder items = new LongAdder();
    final AtomicLong maxSize = new AtomicLong();
    final LongAdder waitNanos = new LongAdder();
    final AtomicLong maxWaitNanos = new AtomicLong();

    io.sagebus.BatchStats snapshot() {
      long n = items.sum();
      return new io.sagebus.BatchStats(batches.sum(), n, (int) maxSize.get(), n == 0 ? 0 : waitNanos.sum() / n / 1000,
        maxWaitNanos.get() / 1000);
    }
  }

  /**
   * {@return a snapshot}
   *
   * @param service   the service name
   * @param instances running instances
   * @param inFlight  calls executing now
   * @param queued    calls waiting now
   */
  public ServiceStats snapshot(String service, int instances, int inFlight, int queued) {
    EnumMap<FailureCode, Long> errs = new EnumMap<>(FailureCode.class);
    errors.forEach((code, n) -> {
      long v = n.sum();
      if (v > 0) {
        errs.put(code, v);
      }
    });
    long n = executions.sum();
    return new ServiceStats(service, instances, requests.sum(), succeeded.sum(), errs,
      errs.getOrDefault(FailureCode.OVERLOADED, 0L), timeouts.sum(), retries.sum(),
      n == 0 ? 0 : executionMicros.sum() / n, maxExecutionMicros.get(), inFlight, queued, cacheHits.sum(),
      cacheMisses.sum(), cacheCoalesced.sum(), throttled.sum(),
      throttleRejected.sum(), TimeUnit.NANOSECONDS.toMillis(throttleWaitNanos.sum()), batchSnapshot(),
      executionTimesSnapshot());
  }

  private LatencyHistogram executionTimesSnapshot() {
    long[] counts = new long[executionTimes.length];
    for (int b = 0; b < counts.length; b++) {
      counts[b] = executionTimes[b].sum();
    }
    return LatencyHistogram.of(counts);
  }

  private Map<String, io.sagebus.BatchStats> batchSnapshot() {
    Map<String, io.sagebus.BatchStats> map = new java.util.TreeMap<>();
    batches.forEach((m, b) -> map.put(m, b.snapshot()));
    return map;
  }
}
