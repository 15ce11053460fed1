package io.sagebus.benchmarks;

import io.sagebus.AsyncFunction;
import io.sagebus.AsyncOrder;
import io.sagebus.EnvironmentOptions;
import io.sagebus.JobOptions;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

/**
 * What the first job of a fresh JVM pays for its cold code, beside the jobs after it in the same JVM: a
 * {@code LocalEnvironment} over a Vertx of its own, a Future-returning service, and several jobs in turn, each
 * {@code fromBatch} of 1,000 records through {@code mapAsync} (capacity 100) to a counting sink. Prints, per job, how
 * long {@code submit()} took, when the first and the last record reached the sink, and when {@code completion()}
 * completed (its services stopped), all from {@code submit()}. Run it once per JVM figure wanted: the first job's
 * cost is paid once per JVM.
 * <pre>
 * java -cp benchmarks/target/sagebus-benchmarks.jar io.sagebus.benchmarks.FirstJobBenchmark [--jobs N]
 * </pre>
 */
public final class FirstJobBenchmark {

  private static final int RECORDS = 1_000;

  private FirstJobBenchmark() {
  }

  /** The service: answers each value, already completed. */
  public static final class FutureEcho {
    /**
     * @param v a value
     * @return {@code v}
     */
    public Future<Object> process(Object v) {
      return Future.succeededFuture(v);
    }
  }

  /** Calls the service for each record. */
  static final class EchoAsync extends AsyncFunction<Long, Object> {
    @Override
    public Future<Object> execute(Long v) {
      return callServiceAsync("echo", v);
    }
  }

  /**
   * Runs the jobs and prints their figures.
   *
   * @param args {@code --jobs N} (default 3)
   * @throws Exception when a job does not complete
   */
  public static void main(String[] args) throws Exception {
    int jobs = 3;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--jobs") && i + 1 < args.length) {
        jobs = Integer.parseInt(args[++i]);
      } else {
        System.err.println("usage: FirstJobBenchmark [--jobs N]");
        System.exit(2);
      }
    }
    Vertx vertx = Vertx.builder().with(new VertxOptions().setPreferNativeTransport(true)).build();
    LocalEnvironment env = LocalEnvironment.create(vertx, "first-job", new EnvironmentOptions());
    env.registerService("echo", FutureEcho.class, new ServiceOptions().setMaxConcurrency(256).setMaxQueued(1000));
    try {
      for (int job = 1; job <= jobs; job++) {
        AtomicLong first = new AtomicLong();
        AtomicLong last = new AtomicLong();
        AtomicInteger seen = new AtomicInteger();
        env.fromBatch(LongStream.range(0, RECORDS).boxed()).mapAsync(new EchoAsync(), 100, AsyncOrder.ORDERED)
          .sink(x -> {
            long now = System.nanoTime();
            first.compareAndSet(0, now);
            if (seen.incrementAndGet() == RECORDS) {
              last.set(now);
            }
          });
        long t0 = System.nanoTime();
        var submitted = env.submit(new JobOptions()).await();
        long t1 = System.nanoTime();
        JobResult result = submitted.completion().await();
        long t2 = System.nanoTime();
        if (result.status() != JobStatus.COMPLETED || seen.get() != RECORDS) {
          throw new IllegalStateException("job " + job + " ended " + result.status() + " with " + seen.get() + " of "
            + RECORDS + " records");
        }
        System.out.printf(Locale.ROOT, "job %d: submit() %.1f ms, first record %.1f ms, last record %.1f ms, "
            + "completion %.1f ms (%.1f ms after the last record)%n", job, (t1 - t0) / 1e6, (first.get() - t0) / 1e6,
          (last.get() - t0) / 1e6, (t2 - t0) / 1e6, (t2 - last.get()) / 1e6);
      }
    } finally {
      env.close().await();
      vertx.close().await();
    }
  }
}
