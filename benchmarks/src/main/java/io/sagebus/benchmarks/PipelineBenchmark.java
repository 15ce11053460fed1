package io.sagebus.benchmarks;

import io.sagebus.AsyncFunction;
import io.sagebus.AsyncOrder;
import io.sagebus.CallOptions;
import io.sagebus.EnvironmentOptions;
import io.sagebus.JobOptions;
import io.sagebus.JobResult;
import io.sagebus.LocalEnvironment;
import io.sagebus.MapFunction;
import io.sagebus.ServiceOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

/**
 * Pipeline throughput, printed beside raw event-bus request-reply measured in the same run:
 * <ol>
 *   <li>records through {@code fromBatch -> map (calls a trivial service) -> sink}, against raw
 *       sequential request-reply from a virtual thread (one map instance makes one call after another);</li>
 *   <li>records through a 5 ms service: a sync {@code map} with parallelism 4 and
 *       {@code mapAsync(capacity 100)}, each against its bound, instances (or capacity) divided
 *       by the service's measured latency.</li>
 * </ol>
 * Run with {@code java -cp benchmarks/target/sagebus-benchmarks.jar io.sagebus.benchmarks.PipelineBenchmark [records]}.
 */
public final class PipelineBenchmark {

  private static final LongAdder callNanos = new LongAdder();
  private static final LongAdder calls = new LongAdder();

  private PipelineBenchmark() {
  }

  /** A service that answers at once. */
  public static class Trivial {
    /**
     * @param v a value
     * @return {@code v}
     */
    public Object process(Object v) {
      return v;
    }
  }

  /** A service that answers after 5 ms, without holding a thread. */
  public static class FiveMillis implements io.sagebus.ServiceLifecycle {
    private Vertx vertx;

    @Override
    public void setup(io.sagebus.ServiceContext context) {
      vertx = context.vertx();
    }

    /**
     * @param v a value
     * @return {@code v}, 5 ms later
     */
    public Future<Object> process(Object v) {
      return vertx.timer(5, TimeUnit.MILLISECONDS).map(x -> v);
    }
  }

  /**
   * Runs the benchmark.
   *
   * @param args optional: the number of records of the trivial-service pipeline (default 1,000,000)
   */
  public static void main(String[] args) {
    int records = args.length > 0 ? Integer.parseInt(args[0].replace("_", "").replace(",", "")) : 1_000_000;
    Vertx vertx = Vertx.vertx();
    try {
      run(vertx, records);
    } finally {
      vertx.close().await();
    }
  }

  private static void run(Vertx vertx, int records) {
    System.out.printf("Pipeline benchmark: %d cores, Java %s, %,d records%n",
      Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), records);
    LocalEnvironment env = LocalEnvironment.create(vertx, "pbench", new EnvironmentOptions());
    env.registerService("trivial", Trivial.class, new ServiceOptions().setMaxConcurrency(4));
    env.registerService("slow", FiveMillis.class, new ServiceOptions().setMaxConcurrency(256));
    env.start().await();

    // Raw baseline: sequential request-reply from a virtual thread to an event-loop consumer.
    vertx.eventBus().<JsonObject>consumer("raw.bench", m -> m.reply(m.body())).completion().await();
    double rawSequential = onVirtualThread(() -> {
      JsonObject body = new JsonObject().put("v", 1);
      for (int i = 0; i < 20_000; i++) {
        vertx.eventBus().request("raw.bench", body).await();
      }
      int n = 100_000;
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        vertx.eventBus().request("raw.bench", body).await();
      }
      return n / seconds(t0);
    });

    // 1. fromBatch -> map (trivial service, sync) -> sink.
    pipelineOfTrivial(env, 50_000);
    double trivial = pipelineOfTrivial(env, records);

    // 2. The 5 ms service: its latency, then sync map x4 and mapAsync(100) against their bounds.
    double latencyMs = onVirtualThread(() -> {
      double[] samples = new double[100];
      for (int i = 0; i < samples.length; i++) {
        long t0 = System.nanoTime();
        env.services().call("slow", i);
        samples[i] = (System.nanoTime() - t0) / 1e6;
      }
      Arrays.sort(samples);
      return samples[samples.length / 2];
    });
    double syncP4 = pipelineOfSlow(env, 2_000, false);
    pipelineOfSlow(env, 20_000, true);
    callNanos.reset();
    calls.reset();
    double async100 = pipelineOfSlow(env, 100_000, true);
    double inRunLatencyMs = callNanos.sum() / 1e6 / calls.sum();

    double boundNominal4 = 4 / 0.005;
    double boundNominal100 = 100 / 0.005;
    double bound4 = 4 / (latencyMs / 1000);
    double bound100 = 100 / (latencyMs / 1000);
    System.out.println();
    System.out.printf("%-62s %12s %s%n", "case", "records/s", "ratio");
    System.out.printf("%-62s %,12.0f %s%n", "raw event-bus request-reply, sequential from a virtual thread", rawSequential, "1.00 (baseline)");
    System.out.printf("%-62s %,12.0f %.2f of raw sequential%n", "fromBatch -> map (trivial service, sync) -> sink", trivial, trivial / rawSequential);
    System.out.printf("%-62s %12.2f%n", "5 ms service: measured call latency, p50 (ms)", latencyMs);
    System.out.printf("%-62s %,12.0f %.2f of bound %,.0f (4 / p50); %.2f of 4 / 5 ms%n",
      "5 ms service, sync map, parallelism 4", syncP4, syncP4 / bound4, bound4, syncP4 / boundNominal4);
    System.out.printf("%-62s %,12.0f %.2f of bound %,.0f (100 / p50); %.2f of 100 / 5 ms%n",
      "5 ms service, mapAsync capacity 100, unordered", async100, async100 / bound100, bound100, async100 / boundNominal100);
    double boundInRun = 100 / (inRunLatencyMs / 1000);
    System.out.printf("%-62s %12.2f%n", "5 ms service: mean call latency during the mapAsync run (ms)", inRunLatencyMs);
    System.out.printf("%-62s %,12.0f %.2f of bound %,.0f (100 / in-run latency: mean calls in flight / 100)%n",
      "", async100, async100 / boundInRun, boundInRun);
    System.out.printf("target mapAsync >= 0.9 x capacity/latency (idle p50 latency): %s%n",
      async100 / bound100 >= 0.9 ? "PASS" : "MISS");
    env.close().await();
  }

  private static double pipelineOfTrivial(LocalEnvironment env, int n) {
    LongAdder seen = new LongAdder();
    env.fromBatch(IntStream.range(0, n).boxed())
      .map(new MapFunction<Integer, Object>() {
        @Override
        public Object execute(Integer i) {
          return callService("trivial", i);
        }
      })
      .sink(x -> seen.increment());
    long t0 = System.nanoTime();
    JobResult r = env.submit(new JobOptions()).await().completion().await();
    check(r, seen, n);
    return n / seconds(t0);
  }

  private static double pipelineOfSlow(LocalEnvironment env, int n, boolean async) {
    LongAdder seen = new LongAdder();
    var source = env.fromBatch(IntStream.range(0, n).boxed());
    if (async) {
      source.mapAsync(new AsyncFunction<Integer, Object>() {
        @Override
        public Future<Object> execute(Integer i) {
          long t0 = System.nanoTime();
          return this.<Object>callServiceAsync("slow", CallOptions.create(), i).andThen(ar -> {
            callNanos.add(System.nanoTime() - t0);
            calls.increment();
          });
        }
      }, 100, AsyncOrder.UNORDERED).sink(x -> seen.increment());
    } else {
      source.map(new MapFunction<Integer, Object>() {
        @Override
        public Object execute(Integer i) {
          return callService("slow", i);
        }
      }, 4).sink(x -> seen.increment());
    }
    long t0 = System.nanoTime();
    JobResult r = env.submit().await().completion().await();
    check(r, seen, n);
    return n / seconds(t0);
  }

  private static void check(JobResult r, LongAdder seen, int n) {
    if (seen.sum() != n) {
      throw new IllegalStateException("expected " + n + " records at the sink, saw " + seen.sum() + ": " + r);
    }
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  private static double onVirtualThread(java.util.concurrent.Callable<Double> body) {
    List<Double> out = new ArrayList<>();
    Thread t = Thread.ofVirtual().start(() -> {
      try {
        out.add(body.call());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    if (out.isEmpty()) {
      throw new IllegalStateException("the measurement failed");
    }
    return out.get(0);
  }
}
