package io.sagebus.benchmarks.flink;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Latency samples from any thread, up to a fixed number (later ones are dropped), read once the run is over.
 */
final class Latencies {

  private final long[] nanos;
  private final AtomicInteger count = new AtomicInteger();

  Latencies(int capacity) {
    nanos = new long[capacity];
  }

  void add(long latencyNanos) {
    int i = count.getAndIncrement();
    if (i < nanos.length) {
      nanos[i] = latencyNanos;
    }
  }

  int count() {
    return Math.min(count.get(), nanos.length);
  }

  /** @return the mean, in ms, or NaN without samples */
  double meanMillis() {
    int n = count();
    if (n == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += nanos[i];
    }
    return sum / n / 1e6;
  }

  /** @return the median, in ms, or NaN without samples */
  double p50Millis() {
    int n = count();
    if (n == 0) {
      return Double.NaN;
    }
    long[] sorted = Arrays.copyOf(nanos, n);
    Arrays.sort(sorted);
    return sorted[n / 2] / 1e6;
  }
}
