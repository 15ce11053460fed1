package io.sagebus.benchmarks;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What one record of a Micrometer meter costs on this machine, single-threaded, on a
 * {@code PrometheusMeterRegistry}: a timer configured as Sagebus's own (a percentile histogram
 * from 50 µs to 60 s), a timer without a histogram, and a counter. Sagebus records three such
 * timers and a few counters per call when metrics are on (BENCHMARKS.md, the call path).
 * Not a test: {@code java -cp benchmarks/target/sagebus-benchmarks.jar io.sagebus.benchmarks.MeterCostBenchmark}.
 */
public final class MeterCostBenchmark {

  private static final long RECORDS = 20_000_000;

  private MeterCostBenchmark() {
  }

  /**
   * Runs three rounds of each meter and prints nanoseconds per record.
   *
   * @param args none
   */
  public static void main(String[] args) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Timer histogram = Timer.builder("bench.histogram").publishPercentileHistogram()
      .minimumExpectedValue(Duration.ofNanos(50_000)).maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
    Timer plain = Timer.builder("bench.plain").register(registry);
    Counter counter = Counter.builder("bench.counter").register(registry);
    for (int round = 1; round <= 3; round++) {
      System.out.printf(Locale.ROOT, "round %d: timer with histogram %.1f ns, timer without %.1f ns, counter %.1f ns%n",
        round, perRecord(histogram), perRecord(plain), perRecord(counter));
    }
    registry.close();
  }

  private static double perRecord(Timer timer) {
    long start = System.nanoTime();
    for (long i = 0; i < RECORDS; i++) {
      timer.record(1_000 + (i & 1023) * 100, TimeUnit.NANOSECONDS);
    }
    return (System.nanoTime() - start) / (double) RECORDS;
  }

  private static double perRecord(Counter counter) {
    long start = System.nanoTime();
    for (long i = 0; i < RECORDS; i++) {
      counter.increment();
    }
    return (System.nanoTime() - start) / (double) RECORDS;
  }
}
