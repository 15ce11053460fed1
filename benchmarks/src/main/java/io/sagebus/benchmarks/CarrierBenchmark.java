package io.sagebus.benchmarks;

import io.sagebus.EnvironmentOptions;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.LocalEnvironment;
import io.sagebus.MapFunction;
import io.sagebus.ServiceOptions;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.LongStream;

/**
 * Jobs run with the JVM's default number of carrier threads for virtual threads (one per core) and with one
 * ({@code -Djdk.virtualThreadScheduler.parallelism=1}), each job in a JVM of its own, the two alternated: where the
 * work per record is small (hand-offs between threads) and where virtual threads compute. Prints each run's job
 * seconds and the medians (README, <em>Carrier threads on small machines</em>).
 * <pre>
 * java -cp benchmarks/target/sagebus-benchmarks.jar io.sagebus.benchmarks.CarrierBenchmark [--rounds N] [--records N]
 * </pre>
 */
public final class CarrierBenchmark {

  /** The JVM flag that sets the number of carrier threads. */
  static final String ONE_CARRIER = "-Djdk.virtualThreadScheduler.parallelism=1";
  /** Iterations of arithmetic per record in the computing cases (about 1 µs of work on this project's VM). */
  static final int ITERATIONS = 3_000;

  /** The jobs: {@code fromBatch} of {@code Long}s, a {@code map}, a sink that counts. */
  enum Job {
    /** A sync call to a plain-value service that returns its argument, parallelism 1. */
    SYNC_P1("sync call, p1", 1, true, false, false),
    /** The same at parallelism 4. */
    SYNC_P4("sync call, p4", 4, true, false, false),
    /** A {@code map} that adds one, parallelism 1. */
    MAP("map v + 1, p1", 1, false, false, false),
    /** A {@code map} that loops {@value #ITERATIONS} times per record, parallelism 1. */
    COMPUTE_MAP_P1("map computing, p1", 1, false, true, false),
    /** The same at parallelism 4. */
    COMPUTE_MAP_P4("map computing, p4", 4, false, true, false),
    /** A sync call to a plain-value service that loops {@value #ITERATIONS} times per call, parallelism 4. */
    COMPUTE_SERVICE_P4("sync call, service computing, p4", 4, true, false, true);

    final String label;
    final int parallelism;
    final boolean calls;
    final boolean computes;
    final boolean serviceComputes;

    Job(String label, int parallelism, boolean calls, boolean computes, boolean serviceComputes) {
      this.label = label;
      this.parallelism = parallelism;
      this.calls = calls;
      this.computes = computes;
      this.serviceComputes = serviceComputes;
    }
  }

  private CarrierBenchmark() {
  }

  /** A plain-value service: returns its argument, or computes first. */
  public static final class Echo {
    private final boolean computes;

    /**
     * @param computes whether it loops {@value CarrierBenchmark#ITERATIONS} times per call
     */
    public Echo(boolean computes) {
      this.computes = computes;
    }

    /**
     * @param v a {@code Long}
     * @return {@code v}, or a value computed from it
     */
    public Object process(Object v) {
      return computes ? compute((Long) v) : v;
    }
  }

  static long compute(long v) {
    long x = v;
    for (int i = 0; i < ITERATIONS; i++) {
      x = x * 31 + i;
    }
    return x;
  }

  /**
   * Runs the comparison, or with {@code --child JOB RECORDS} one job in this JVM.
   *
   * @param args {@code --rounds N} (default 2), {@code --records N} (default 1,000,000)
   * @throws Exception when a job fails
   */
  public static void main(String[] args) throws Exception {
    if (args.length == 3 && args[0].equals("--child")) {
      System.out.printf(Locale.ROOT, "RESULT %.4f%n", runJob(Job.valueOf(args[1]), Integer.parseInt(args[2])));
      return;
    }
    int rounds = 2;
    int records = 1_000_000;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(value(args, ++i));
        case "--records" -> records = Integer.parseInt(value(args, ++i));
        default -> throw new IllegalArgumentException("unknown option " + args[i]
          + "; options: --rounds N (default 2), --records N (default 1000000)");
      }
    }
    if (rounds < 1 || records < 1) {
      throw new IllegalArgumentException("--rounds and --records must be at least 1");
    }
    System.out.printf(Locale.ROOT, "CarrierBenchmark: %d cores, Java %s, load average %s, %d round(s) of %,d records;"
        + " each job in a JVM of its own, default carriers and one carrier alternated%n",
      Runtime.getRuntime().availableProcessors(), Runtime.version(), Load.average(), rounds, records);
    Map<Job, List<Double>> many = new LinkedHashMap<>();
    Map<Job, List<Double>> one = new LinkedHashMap<>();
    for (int r = 0; r < rounds; r++) {
      for (Job job : Job.values()) {
        for (boolean single : r % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
          double s = child(job, records, single);
          (single ? one : many).computeIfAbsent(job, k -> new ArrayList<>()).add(s);
          System.out.printf(Locale.ROOT, "round %d  %-34s %-16s %6.3f s%n", r + 1, job.label,
            single ? "one carrier" : "default carriers", s);
        }
      }
    }
    System.out.println();
    System.out.println("| job | default carriers: job s | one carrier: job s | one / default (medians) |");
    System.out.println("| --- | --- | --- | ---: |");
    for (Job job : Job.values()) {
      System.out.printf(Locale.ROOT, "| %s | %s | %s | %.2f |%n", job.label, list(many.get(job)), list(one.get(job)),
        median(one.get(job)) / median(many.get(job)));
    }
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException("missing value after " + args[i - 1]);
    }
    return args[i];
  }

  private static String list(List<Double> seconds) {
    StringBuilder sb = new StringBuilder();
    for (double s : seconds) {
      sb.append(sb.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", s));
    }
    return sb.toString();
  }

  private static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /** Runs one job in a JVM of its own; its output is printed if it fails. */
  private static double child(Job job, int records, boolean oneCarrier) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElseThrow());
    if (oneCarrier) {
      command.add(ONE_CARRIER);
    }
    command.addAll(Arrays.asList("-cp", System.getProperty("java.class.path"), CarrierBenchmark.class.getName(),
      "--child", job.name(), Integer.toString(records)));
    Path out = Files.createTempFile("sagebus-carriers", ".txt");
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      boolean ended = p.waitFor(10, TimeUnit.MINUTES);
      String text = Files.readString(out);
      if (!ended || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException(job + (oneCarrier ? " (one carrier)" : "") + " failed: " + text);
      }
      return text.lines().filter(l -> l.startsWith("RESULT ")).mapToDouble(l -> Double.parseDouble(l.substring(7)))
        .findFirst().orElseThrow(() -> new IllegalStateException(job + " printed no result: " + text));
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** {@return the job's seconds, from submit to completion} */
  static double runJob(Job job, int n) throws Exception {
    Vertx vertx = Vertx.vertx();
    LocalEnvironment env = LocalEnvironment.create(vertx, "carriers", new EnvironmentOptions());
    try {
      if (job.calls) {
        env.registerService("echo", () -> new Echo(job.serviceComputes), new ServiceOptions().setMaxConcurrency(4));
      }
      LongAdder seen = new LongAdder();
      env.fromBatch(LongStream.range(0, n).boxed()).map(new MapFunction<Long, Object>() {
        @Override
        public Object execute(Long v) {
          if (job.calls) {
            return callService("echo", v);
          }
          return job.computes ? compute(v) : v + 1;
        }
      }, job.parallelism).sink(x -> seen.increment());
      long t0 = System.nanoTime();
      JobResult result = env.submit().await().completion().await();
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (result.status() != JobStatus.COMPLETED || seen.sum() != n) {
        throw new IllegalStateException("expected " + n + " records at the sink of a COMPLETED job, saw " + seen.sum()
          + ": " + result.toJson().encode());
      }
      return seconds;
    } finally {
      env.close().await();
      vertx.close().await();
    }
  }
}
