package io.sagebus;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A million records of about 1 KB each, from a lazy source far faster than the service its map
 * calls, get through a JVM with a 256 MB heap (Failsafe forks it with -Xmx256m): backpressure
 * holds the source back instead of filling the heap.
 */
class BoundedMemoryIT {

  private static final int RECORDS = 1_000_000;
  private static final int CAP = 1_000;

  /** About ten times slower per record than the source: it spins while the source only builds a string. */
  public static class SlowScorer {
    public int process(String record) {
      long until = System.nanoTime() + 2_000;
      int i = 0;
      while (System.nanoTime() < until) {
        i = (i + record.charAt(i % record.length())) % record.length();
      }
      return record.length();
    }
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void aMillionKilobyteRecordsThroughASlowServiceInASmallHeap() {
    long maxHeap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
    assertThat(maxHeap).as("this test must run with -Xmx256m").isLessThanOrEqualTo(256L * 1024 * 1024);
    LocalEnvironment env = LocalEnvironment.create("memory");
    try {
      env.registerService("score", SlowScorer.class, new ServiceOptions().setInstances(2).setMaxConcurrency(2));
      AtomicLong bytes = new AtomicLong();
      AtomicLong count = new AtomicLong();
      String filler = "x".repeat(1_000);
      env.fromBatch(IntStream.range(0, RECORDS).mapToObj(i -> i + ":" + filler))
        .map(record -> (Integer) env.services().call("score", record), 4)
        .sink(length -> {
          bytes.addAndGet(length);
          count.incrementAndGet();
        });
      long t0 = System.nanoTime();
      JobResult result = env.submit(new JobOptions().setMaxRecordsInFlight(CAP)).await().completion().await();
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      System.out.printf("%d records of ~1 KB in %d ms (%.0f records/s), peak in flight %d (cap %d), max heap %d MB%n",
        count.get(), millis, count.get() * 1000.0 / millis, result.peakRecordsInFlight(), CAP, maxHeap >> 20);
      assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(count.get()).isEqualTo(RECORDS);
      assertThat(bytes.get()).isGreaterThan(1_000L * RECORDS);
      // The cap, not the queues (4 map instances and a sink, 256 records each), is what held the source back.
      assertThat(result.peakRecordsInFlight()).isBetween(CAP / 2L, (long) CAP);
      assertThat(result.maxRecordsInFlight()).isEqualTo(CAP);
    } finally {
      env.close().await();
    }
  }
}
