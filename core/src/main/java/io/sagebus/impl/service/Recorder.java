package io.sagebus.impl.service;

import io.sagebus.FailureCode;
import io.sagebus.impl.ops.ServiceMetrics;
import io.sagebus.impl.ops.ServiceOps;

import java.util.Map;

/**
 * The recording part of a service instance: every request, start, end and outcome goes through
 * here once, into the service's statistics ({@link ServiceMetrics}, read by {@code stats()}) and,
 * when metrics are on, its Micrometer meters per method.
 */
final class Recorder {

  private final ServiceMetrics stats;
  /** Meters by method name, {@code null} when metrics are off. */
  private final Map<String, ServiceOps.ServerMeters> meters;

  Recorder(ServiceMetrics stats, Map<String, ServiceOps.ServerMeters> meters) {
    this.stats = stats;
    this.meters = meters;
  }

  /**
   * Counts a request that arrived.
   *
   * @param method the method it names, or {@code null} when the request could not be read
   * @return the meters of that method ({@value ServiceOps#UNKNOWN}'s for a method the service lacks),
   * {@code null} when metrics are off
   */
  ServiceOps.ServerMeters arrived(String method) {
    stats.request();
    if (meters == null) {
      return null;
    }
    ServiceOps.ServerMeters m = method == null ? null : meters.get(method);
    if (m == null) {
      m = meters.get(ServiceOps.UNKNOWN);
    }
    m.request();
    return m;
  }

  /** A call got its slot after waiting {@code waitedNanos}. */
  void started(ServiceOps.ServerMeters meter, long waitedNanos) {
    if (meter != null) {
      meter.started(waitedNanos);
    }
  }

  /** A call's method returned (or its Future completed) after {@code ranNanos}. */
  void ended(ServiceOps.ServerMeters meter, long ranNanos) {
    if (meter != null) {
      meter.ended(ranNanos);
    }
  }

  /**
   * A batch of a batched method began.
   *
   * @param method     the method
   * @param meter      its meters, or {@code null}
   * @param waitsNanos each item's wait from its arrival to the batch's start, one per item
   */
  void batch(String method, ServiceOps.ServerMeters meter, long[] waitsNanos) {
    long sum = 0;
    long max = 0;
    for (long w : waitsNanos) {
      sum += w;
      max = Math.max(max, w);
    }
    stats.batch(method, waitsNanos.length, sum, max);
    if (meter != null) {
      meter.batch(waitsNanos.length, waitsNanos);
    }
  }

  /** A call was answered with its result; its method ran {@code micros}. */
  void succeeded(long micros) {
    stats.succeeded(micros);
  }

  /**
   * A call was answered with a failure.
   *
   * @param meter         its method's meters, or {@code null}
   * @param code          the failure
   * @param executedMicros how long its method ran, or a negative number when it never ran
   */
  void failed(ServiceOps.ServerMeters meter, FailureCode code, long executedMicros) {
    if (executedMicros >= 0) {
      stats.executed(executedMicros);
    }
    stats.failed(code);
    if (meter != null) {
      meter.error(code);
    }
  }
}
