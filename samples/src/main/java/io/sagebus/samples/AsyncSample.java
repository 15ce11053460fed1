package io.sagebus.samples;

import io.sagebus.AsyncFunction;
import io.sagebus.AsyncOrder;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceContext;
import io.sagebus.ServiceOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

/**
 * {@code mapAsync}: one operator instance keeps up to {@value #CAPACITY} calls in flight to a
 * service that answers after {@value #LATENCY_MS} ms, so the pipeline can reach
 * {@value #CAPACITY} / {@value #LATENCY_MS} ms = 20,000 records/s, where a sync {@code map} would
 * reach 200. While it runs it prints the records done and the rate over the last second, about
 * once a second; at the end, the overall rate (from submit, so including the JIT's warm-up) and
 * how it compares with that bound.
 * <p>
 * Run with {@code java -jar samples/target/sagebus-samples.jar async [RECORDS]}
 * ({@value #DEFAULT_RECORDS} records by default). Prints, on a 2-core machine (the figures vary
 * from run to run):
 * <pre>
 * async: 50,000 records, each through a 5 ms service call, at most 100 in flight
 * progress: 14,160 records, 14,097 records/s
 * progress: 33,293 records, 19,154 records/s
 * done: 50,000 records in 2.902 s, 17,228 records/s
 * bound: 100 in flight / 5 ms per call = 20,000 records/s; reached 86%
 * </pre>
 */
public final class AsyncSample {

  /** Records run when no count is given. */
  public static final int DEFAULT_RECORDS = 50_000;
  /** Calls in flight in the {@code mapAsync} operator. */
  public static final int CAPACITY = 100;
  /** How long the service takes to answer one call, in milliseconds. */
  public static final int LATENCY_MS = 5;

  private AsyncSample() {
  }

  /**
   * Reads the record count from the sample's arguments.
   *
   * @param args empty, or the number of records
   * @return the number of records; {@value #DEFAULT_RECORDS} when {@code args} is empty
   * @throws Samples.BadArgumentsException when the first argument is not a positive integer
   */
  public static int records(List<String> args) {
    if (args.isEmpty()) {
      return DEFAULT_RECORDS;
    }
    try {
      int records = Integer.parseInt(args.getFirst().replace("_", "").replace(",", ""));
      if (records > 0) {
        return records;
      }
    } catch (NumberFormatException e) {
      // reported below, with what was given
    }
    throw new Samples.BadArgumentsException("The record count must be a positive integer, got '" + args.getFirst()
      + "'");
  }

  /**
   * Runs the sample: creates an environment, runs the records through the pipeline, prints the
   * rate, and closes the environment.
   *
   * @param out     where the progress and the result are printed
   * @param records how many records to run, at least 1
   * @throws IllegalArgumentException when {@code records} is below 1
   * @throws io.sagebus.JobFailedException when the job fails
   */
  public static void run(PrintStream out, int records) {
    if (records < 1) {
      throw new IllegalArgumentException("records must be at least 1, got " + records);
    }
    out.printf(Locale.ROOT, "async: %,d records, each through a %d ms service call, at most %d in flight%n",
      records, LATENCY_MS, CAPACITY);
    LocalEnvironment env = LocalEnvironment.create("async");
    try {
      // The service must admit as many calls at once as the operator keeps in flight, or it is the limit.
      env.registerService("slow", SlowService.class, new ServiceOptions().setMaxConcurrency(CAPACITY));

      LongAdder done = new LongAdder();
      env.fromBatch(IntStream.range(0, records).boxed())
        .mapAsync(new CallSlow(), CAPACITY, AsyncOrder.UNORDERED) // up to CAPACITY calls in flight
        .nonBlocking() // CallSlow only starts a call: the next one starts on the loop where the last one ended
        .sink(n -> done.increment());

      long start = System.nanoTime();
      String progress = env.vertx().deployVerticle(new Progress(out, done, start)).await();
      env.submit().await().completion().await();
      double seconds = (System.nanoTime() - start) / 1e9;
      env.vertx().undeploy(progress).await(); // cancels its timer: no progress line after this

      double rate = done.sum() / seconds;
      double bound = CAPACITY * 1000.0 / LATENCY_MS;
      out.printf(Locale.ROOT, "done: %,d records in %.3f s, %,.0f records/s%n", done.sum(), seconds, rate);
      out.printf(Locale.ROOT, "bound: %d in flight / %d ms per call = %,.0f records/s; reached %.0f%%%n",
        CAPACITY, LATENCY_MS, bound, 100 * rate / bound);
    } finally {
      env.close().await();
    }
  }

  /**
   * A service that answers each call after {@value #LATENCY_MS} ms. It returns a {@link Future}, so
   * it runs on the event loop and holds no thread while it waits: a timer completes the answer.
   */
  public static final class SlowService {

    private final Vertx vertx;

    /**
     * Sagebus creates the instances.
     *
     * @param context where the instance runs; it provides the Vertx
     */
    public SlowService(ServiceContext context) {
      this.vertx = context.vertx();
    }

    /**
     * The method called when a call names none.
     *
     * @param n a number
     * @return {@code n}, {@value #LATENCY_MS} ms later
     */
    public Future<Integer> process(Integer n) {
      return vertx.timer(LATENCY_MS, TimeUnit.MILLISECONDS).map(t -> n);
    }
  }

  /** Calls the slow service without waiting: the operator holds up to its capacity of these futures. */
  static final class CallSlow extends AsyncFunction<Integer, Integer> {

    @Override
    public Future<Integer> execute(Integer n) {
      return callServiceAsync("slow", n);
    }
  }

  /**
   * Prints the records done and the rate over the last second, about once a second. A verticle,
   * so that undeploying it cancels the timer on the event loop that runs the prints: once the
   * undeploy completes, no print is under way and none will come.
   */
  static final class Progress extends VerticleBase {

    private final PrintStream out;
    private final LongAdder done;
    private long timer;
    private long lastRecords;
    private long lastNanos;

    Progress(PrintStream out, LongAdder done, long start) {
      this.out = out;
      this.done = done;
      this.lastNanos = start;
    }

    @Override
    public Future<?> start() {
      timer = vertx.setPeriodic(1000, id -> {
        long records = done.sum();
        long now = System.nanoTime();
        double rate = (records - lastRecords) / ((now - lastNanos) / 1e9);
        out.printf(Locale.ROOT, "progress: %,d records, %,.0f records/s%n", records, rate);
        lastRecords = records;
        lastNanos = now;
      });
      return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
      vertx.cancelTimer(timer);
      return Future.succeededFuture();
    }
  }
}
