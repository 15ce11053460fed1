package io.sagebus.benchmarks;

import io.sagebus.AsyncOrder;
import io.sagebus.BatchPolicy;
import io.sagebus.BatchStats;
import io.sagebus.CallOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceOptions;
import io.vertx.core.json.JsonArray;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

/**
 * Dynamic batching against its bound, in one JVM: a batched method whose invocation costs
 * 2 ms + 0.05 ms per item (a sleep of its virtual thread, then a spin for its last 0.3 ms), max batch 32, max wait 5 ms, one batch
 * at a time, driven by {@code mapAsync} with capacity 256; beside it, in the same run, the same
 * method on a service without batching (one item per invocation, maxConcurrency 1). Then, right
 * after that load, one call in flight at a time: p50 latency against max wait + one invocation, and
 * the time from each call's send to its method's start. Prints each target PASS or MISS. Not a test: {@code java -cp benchmarks/target/sagebus-benchmarks.jar
 * io.sagebus.benchmarks.BatchingBenchmark [rounds] [seconds]}.
 */
public final class BatchingBenchmark {

  static final int MAX_SIZE = 32;
  static final Duration MAX_WAIT = Duration.ofMillis(5);
  static final int CAPACITY = 256;
  static final long FIXED_NANOS = 2_000_000;
  /** The last part of a modelled invocation, spun rather than slept. */
  static final long SPIN_NANOS = 300_000;
  static final long PER_ITEM_NANOS = 50_000;
  /** Items per second one instance can reach: full batches back to back. */
  static final double BOUND = MAX_SIZE / ((FIXED_NANOS + PER_ITEM_NANOS * MAX_SIZE) / 1e9);
  static final double THROUGHPUT_TARGET = 0.9;
  private static final CallOptions EMBED = CallOptions.method("embed");

  private BatchingBenchmark() {
  }

  /** The modelled embedding service: one invocation costs 2 ms + 0.05 ms per item. */
  public static class EmbedService {
    private final AtomicLong started;

    /**
     * One per instance, made by Sagebus through the supplier.
     *
     * @param started set to {@link System#nanoTime()} as each invocation begins
     */
    EmbedService(AtomicLong started) {
      this.started = started;
    }

    /**
     * {@return each item plus one}
     *
     * @param items the batch
     * @throws InterruptedException when interrupted while it "computes"
     */
    public List<Integer> embed(List<Integer> items) throws InterruptedException {
      started.set(System.nanoTime());
      work(FIXED_NANOS + PER_ITEM_NANOS * items.size());
      List<Integer> out = new ArrayList<>(items.size());
      for (Integer i : items) {
        out.add(i + 1);
      }
      return out;
    }
  }

  /**
   * Takes {@code nanos} as a model's invocation would: a sleep of its virtual thread to 0.3 ms before the end,
   * then a spin to the end, since a sleep alone overshoots by 0.2-0.3 ms here and the bound is computed from the
   * nominal cost.
   */
  static void work(long nanos) throws InterruptedException {
    long end = System.nanoTime() + nanos;
    long sleep = nanos - SPIN_NANOS;
    if (sleep > 0) {
      Thread.sleep(Duration.ofNanos(sleep));
    }
    while (System.nanoTime() - end < 0) {
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      Thread.onSpinWait();
    }
  }

  /**
   * @param args {@code [rounds] [seconds]}: measured rounds per case (default 3) and their length (default 3)
   */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    System.out.printf(Locale.ROOT, "BatchingBenchmark: %d cores, Java %s, %d rounds of ~%d s per case%n",
      Runtime.getRuntime().availableProcessors(), Runtime.version(), rounds, seconds);
    System.out.printf(Locale.ROOT, "method: 2 ms + 0.05 ms per item; batched: maxSize %d, maxWait %d ms, 1 batch at"
      + " a time; mapAsync capacity %d; bound %.0f items/s per instance%n", MAX_SIZE, MAX_WAIT.toMillis(), CAPACITY,
      BOUND);
    LocalEnvironment env = LocalEnvironment.create("batching-bench");
    try {
      AtomicLong batchedStart = new AtomicLong();
      AtomicLong unbatchedStart = new AtomicLong();
      env.registerService("embed", () -> new EmbedService(batchedStart), new ServiceOptions()
        .setBatching("embed", BatchPolicy.create(MAX_SIZE, MAX_WAIT)));
      env.registerService("embed-unbatched", () -> new EmbedService(unbatchedStart), new ServiceOptions());
      env.start().await(60, TimeUnit.SECONDS);

      // Same-run baseline: the method called directly, back to back on one virtual thread (no Sagebus), so the
      // bound can be read with what its sleep really takes on this (loaded) machine.
      double direct32 = direct(MAX_SIZE, 300);
      double direct1 = direct(1, 300);
      double measuredBound = MAX_SIZE / (direct32 / 1e3);
      System.out.printf(Locale.ROOT, "direct invocation, median of 300: %d items %.2f ms (nominal %.2f), 1 item %.2f ms"
        + " (nominal %.2f); bound with the measured time %.0f items/s%n", MAX_SIZE, direct32,
        (FIXED_NANOS + PER_ITEM_NANOS * MAX_SIZE) / 1e6, direct1, (FIXED_NANOS + PER_ITEM_NANOS) / 1e6, measuredBound);

      // Warm-up (JIT, thread pools): unmeasured.
      throughput(env, "embed", (int) BOUND * 2, true);
      throughput(env, "embed-unbatched", 200, false);

      double[] batched = new double[rounds];
      double[] unbatched = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        batched[r] = throughput(env, "embed", (int) (BOUND * seconds), true);
        unbatched[r] = throughput(env, "embed-unbatched", (int) (1e9 / (FIXED_NANOS + PER_ITEM_NANOS) * seconds),
          false);
        System.out.printf(Locale.ROOT, "  round %d: batched %.0f items/s, unbatched %.0f items/s%n", r + 1,
          batched[r], unbatched[r]);
      }
      BatchStats stats = env.services().stats("embed").await(30, TimeUnit.SECONDS).batches().get("embed");
      double b = median(batched);
      double u = median(unbatched);
      System.out.println();
      System.out.printf(Locale.ROOT, "%-44s %10s %10s%n", "throughput (mapAsync, capacity 256)", "items/s", "vs bound");
      System.out.printf(Locale.ROOT, "%-44s %10.0f %9.2fx%n", "batched (median round)", b, b / BOUND);
      System.out.printf(Locale.ROOT, "%-44s %10.0f %9.2fx%n", "unbatched, same method (median round)", u, u / BOUND);
      System.out.printf(Locale.ROOT, "batched vs the bound with the measured invocation time (%.0f/s): %.2fx; unbatched "
        + "vs its own (%.0f/s): %.2fx%n", measuredBound, b / measuredBound, 1e3 / direct1, u / (1e3 / direct1));
      System.out.printf(Locale.ROOT, "batched / unbatched: %.1fx; batches so far: %d, mean size %.1f, mean wait %d us%n",
        b / u, stats.batches(), stats.meanSize(), stats.meanWaitMicros());

      // One call in flight, from a virtual thread, right after the load above: each batch holds one item.
      double invocationMillis = (FIXED_NANOS + PER_ITEM_NANOS) / 1e6;
      double latencyBound = MAX_WAIT.toNanos() / 1e6 + invocationMillis;
      latencies(env, "embed", batchedStart, 100);
      latencies(env, "embed-unbatched", unbatchedStart, 100);
      BatchStats before = env.services().stats("embed").await(30, TimeUnit.SECONDS).batches().get("embed");
      double[][] lb = latencies(env, "embed", batchedStart, 400);
      BatchStats after = env.services().stats("embed").await(30, TimeUnit.SECONDS).batches().get("embed");
      double[][] lu = latencies(env, "embed-unbatched", unbatchedStart, 400);
      System.out.println();
      System.out.printf(Locale.ROOT, "%-44s %8s %8s   %s%n", "latency, 1 call in flight (400 calls)", "p50 ms", "p99 ms",
        "send to the method's start, p50 / mean ms");
      System.out.printf(Locale.ROOT, "%-44s %8.2f %8.2f   %.2f / %.2f (%d batches of %d items)%n", "batched",
        percentile(lb[0], 50), percentile(lb[0], 99), percentile(lb[1], 50), mean(lb[1]),
        after.batches() - before.batches(), after.items() - before.items());
      System.out.printf(Locale.ROOT, "%-44s %8.2f %8.2f   %.2f / %.2f%n", "unbatched, same method",
        percentile(lu[0], 50), percentile(lu[0], 99), percentile(lu[1], 50), mean(lu[1]));
      System.out.println();
      boolean t1 = b >= THROUGHPUT_TARGET * BOUND;
      boolean t2 = percentile(lb[0], 50) <= latencyBound;
      System.out.printf(Locale.ROOT, "target: batched items/s >= %.1f x bound (%.0f): %.0f  %s%n", THROUGHPUT_TARGET,
        THROUGHPUT_TARGET * BOUND, b, t1 ? "PASS" : "MISS");
      System.out.printf(Locale.ROOT, "target: batched p50 <= max wait + one invocation (%.2f ms): %.2f ms  %s%n",
        latencyBound, percentile(lb[0], 50), t2 ? "PASS" : "MISS");
      System.out.printf(Locale.ROOT, "with the measured invocation: items/s >= 0.9 x %.0f: %s; p50 <= %.2f ms: %s%n",
        measuredBound, b >= THROUGHPUT_TARGET * measuredBound ? "PASS" : "MISS",
        MAX_WAIT.toNanos() / 1e6 + direct1, percentile(lb[0], 50) <= MAX_WAIT.toNanos() / 1e6 + direct1 ? "PASS"
          : "MISS");
    } finally {
      env.close().await(60, TimeUnit.SECONDS);
    }
  }

  /** {@return the median time of {@code n} direct invocations with {@code size} items, in ms} */
  private static double direct(int size, int n) throws Exception {
    EmbedService service = new EmbedService(new AtomicLong());
    List<Integer> items = IntStream.range(0, size).boxed().toList();
    return percentile(timed(n, i -> service.embed(items)), 50);
  }

  /** One timed step. */
  private interface Step {
    void run(int i) throws Exception;
  }

  /** {@return how long each of {@code n} steps took one after another on a virtual thread, in ms, sorted} */
  private static double[] timed(int n, Step step) throws Exception {
    CompletableFuture<double[]> done = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> {
      try {
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
          long t0 = System.nanoTime();
          step.run(i);
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        done.complete(ms);
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    });
    return done.get(300, TimeUnit.SECONDS);
  }

  /** {@return items/s of {@code n} items through a mapAsync of capacity 256 calling the method per item} */
  private static double throughput(LocalEnvironment env, String service, int n, boolean batched) throws Exception {
    LongAdder received = new LongAdder();
    env.fromBatch(IntStream.range(0, n).boxed().toList())
      .mapAsync(i -> batched ? env.services().<Integer>callAsync(service, EMBED, i)
        : env.services().<JsonArray>callAsync(service, EMBED, List.of(i)).map(a -> a.getInteger(0)),
        CAPACITY, AsyncOrder.UNORDERED)
      .sink(x -> received.increment());
    long t0 = System.nanoTime();
    env.submit().await(60, TimeUnit.SECONDS).completion().await(300, TimeUnit.SECONDS);
    long nanos = System.nanoTime() - t0;
    if (received.sum() != n) {
      throw new IllegalStateException(service + ": " + received.sum() + " of " + n + " records arrived");
    }
    return n / (nanos / 1e9);
  }

  /**
   * {@return the latency of each of {@code n} sequential calls, in ms, sorted, and the time from each call's send to
   * its method's start (the batcher's wait and the request's trip), sorted}
   */
  private static double[][] latencies(LocalEnvironment env, String service, AtomicLong started, int n)
    throws Exception {
    double[] toStart = new double[n];
    double[] latency = timed(n, i -> {
      long t0 = System.nanoTime();
      if (service.equals("embed")) {
        env.services().<Integer>call(service, EMBED, i);
      } else {
        env.services().<JsonArray>call(service, EMBED, List.of(i));
      }
      toStart[i] = (started.get() - t0) / 1e6;
    });
    Arrays.sort(toStart);
    return new double[][] {latency, toStart};
  }

  private static double mean(double[] values) {
    return Arrays.stream(values).average().orElse(Double.NaN);
  }

  private static double percentile(double[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  private static double median(double[] values) {
    double[] copy = values.clone();
    Arrays.sort(copy);
    return copy[copy.length / 2];
  }
}
