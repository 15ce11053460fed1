package io.sagebus.benchmarks;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.DeploymentOptions;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The two load shapes of the benchmark: a fixed number of async calls in flight from one event
 * loop, and one call after another from a virtual thread. Each runs a warm-up, then measured
 * rounds back to back, and stops: nothing is left running.
 */
final class Load {

  private Load() {
  }

  /** The figures of one measured round. */
  record Round(double perSecond, double p50Micros, double p99Micros, long calls, double cpuMicrosPerCall,
               double loopCpuMicrosPerCall, double othersCpus) {
  }

  /**
   * @return CPU time all processes of the machine have used, in ns (Linux {@code /proc/stat}), or -1
   */
  static long machineBusyNanos() {
    try {
      String line = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0);
      String[] f = line.trim().split("\\s+");
      // cpu user nice system idle iowait irq softirq steal ...; busy = all but idle and iowait
      long busy = 0;
      for (int i = 1; i < f.length && i <= 8; i++) {
        if (i != 4 && i != 5) {
          busy += Long.parseLong(f[i]);
        }
      }
      return busy * 10_000_000L; // USER_HZ is 100 on Linux
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
  }

  /** A round during which other processes used more CPUs than this is measured again, budget permitting. */
  static final double DISTURBED_CPUS = 0.25;

  /** Rounds that may still be measured again in this run (shared by all cases, so the run stays bounded). */
  static final java.util.concurrent.atomic.AtomicInteger RERUNS_LEFT = new java.util.concurrent.atomic.AtomicInteger();

  /** At most this many rounds of one case are measured again. */
  static final int RERUNS_PER_CASE = 2;

  /**
   * @param round      a measured round
   * @param rerunSoFar rounds of this case measured again already
   * @return whether to discard the round and measure it again (takes one from the run's budget)
   */
  static boolean rerun(Round round, int rerunSoFar) {
    return round.othersCpus() > DISTURBED_CPUS && rerunSoFar < RERUNS_PER_CASE
      && RERUNS_LEFT.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
  }

  /** Samples the CPU other processes use while a round runs. */
  static final class Others {
    private final long busy0 = machineBusyNanos();
    private final long own0 = processCpuNanos();
    private final long t0 = System.nanoTime();

    /** @return CPUs (1.0 = one CPU) used by other processes since this sampler was created, or NaN */
    double cpus() {
      long busy1 = machineBusyNanos();
      long own1 = processCpuNanos();
      if (busy0 < 0 || busy1 < 0 || own0 < 0 || own1 < 0) {
        return Double.NaN;
      }
      return Math.max(0, (busy1 - busy0) - (own1 - own0)) / (double) (System.nanoTime() - t0);
    }
  }

  private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

  /** @return CPU time of a thread, in ns, or -1 */
  static long threadCpuNanos(Thread t) {
    try {
      return t == null || !THREADS.isThreadCpuTimeSupported() ? -1 : THREADS.getThreadCpuTime(t.threadId());
    } catch (UnsupportedOperationException e) {
      return -1;
    }
  }

  private static final java.lang.management.OperatingSystemMXBean OS =
    java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  /** @return CPU time this process has used, in ns, or -1 when the JVM cannot tell */
  static long processCpuNanos() {
    return OS instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
  }

  private static double cpuPerCall(long cpu0, long cpu1, long calls) {
    return cpu0 < 0 || cpu1 < 0 || calls == 0 ? Double.NaN : (cpu1 - cpu0) / 1000.0 / calls;
  }

  /** A case's rounds, plus what went wrong or where it ran. */
  record Measured(List<Round> rounds, long failures, String firstFailure, String placement, int rerun) {

    double medianRate() {
      return median(rounds.stream().mapToDouble(Round::perSecond).toArray());
    }

    double medianP50() {
      return median(rounds.stream().mapToDouble(Round::p50Micros).toArray());
    }

    double medianP99() {
      return median(rounds.stream().mapToDouble(Round::p99Micros).toArray());
    }

    double medianCpuPerCall() {
      return median(rounds.stream().mapToDouble(Round::cpuMicrosPerCall).toArray());
    }

    double medianOthersCpus() {
      return median(rounds.stream().mapToDouble(Round::othersCpus).toArray());
    }

    double maxOthersCpus() {
      return rounds.stream().mapToDouble(Round::othersCpus).max().orElse(Double.NaN);
    }

    double medianLoopCpuPerCall() {
      return median(rounds.stream().mapToDouble(Round::loopCpuMicrosPerCall).toArray());
    }
  }

  static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** A standard (event-loop) verticle that only tells which thread and context it got. */
  static final class DriverVerticle extends VerticleBase {
    volatile String thread;
    volatile Context ctx;

    @Override
    public Future<?> start() {
      thread = Thread.currentThread().getName();
      ctx = context;
      return Future.succeededFuture();
    }
  }

  /** A virtual-thread verticle whose context runs the sequential loops. */
  static final class VirtualThreadVerticle extends VerticleBase {
    volatile Context ctx;

    @Override
    public Future<?> start() {
      ctx = context;
      return Future.succeededFuture();
    }
  }

  static <T> T await(Future<T> future, long seconds) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      throw e;
    }
  }

  /**
   * Deploys a driver verticle on the event loop {@code thread} ({@code same}) or on another one,
   * so that every case gets the same placement of caller and consumer: whether they share a
   * thread decides whether each call crosses threads, which changes the figures several-fold.
   * Deploys verticles (round-robin over the event loops) until one lands right; the rejects stay
   * in {@code undeploy} for the caller to undeploy.
   */
  static DriverVerticle deployDriver(Vertx vertx, String thread, boolean same, List<String> undeploy)
    throws Exception {
    DriverVerticle last = null;
    for (int i = 0; i < 16; i++) {
      DriverVerticle d = new DriverVerticle();
      String id = await(vertx.deployVerticle(d), 30);
      undeploy.add(id);
      last = d;
      if (d.thread.equals(thread) == same) {
        return d;
      }
    }
    return last;
  }

  /**
   * Keeps {@code inFlight} calls outstanding from one event-loop context: each completion sends
   * the next. Counts completions; the caller samples the count.
   */
  static final class AsyncLoad {
    private final Supplier<Future<?>> call;
    private final int inFlight;
    private final Context ctx;
    private final Handler<AsyncResult<Object>> onDone = this::done;
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private volatile Thread driverThread;
    private int outstanding;
    private boolean stopping;
    private volatile long completed;
    private volatile long failed;
    private volatile long offThread;
    private volatile String firstFailure;

    AsyncLoad(Context ctx, Supplier<Future<?>> call, int inFlight) {
      this.ctx = ctx;
      this.call = call;
      this.inFlight = inFlight;
    }

    void start() {
      ctx.runOnContext(v -> {
        driverThread = Thread.currentThread();
        for (int i = 0; i < inFlight; i++) {
          send();
        }
      });
    }

    @SuppressWarnings("unchecked")
    private void send() {
      outstanding++;
      Future<Object> f;
      try {
        f = (Future<Object>) call.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(onDone);
    }

    private void done(AsyncResult<Object> ar) {
      if (Thread.currentThread() != driverThread) {
        offThread++;
      }
      outstanding--;
      if (ar.succeeded()) {
        completed++;
      } else {
        failed++;
        if (firstFailure == null) {
          firstFailure = String.valueOf(ar.cause());
        }
      }
      if (stopping) {
        if (outstanding == 0) {
          drained.complete(null);
        }
      } else if (ar.succeeded()) {
        send();
      } else {
        // Never recurse on failures that complete at once: go round the event loop.
        ctx.runOnContext(v -> {
          if (!stopping) {
            send();
          } else if (outstanding == 0) {
            drained.complete(null);
          }
        });
      }
    }

    long completed() {
      return completed;
    }

    Thread driverThread() {
      return driverThread;
    }

    /** Stops sending and waits for the outstanding calls to come back. */
    void stop(long timeoutSeconds) throws Exception {
      ctx.runOnContext(v -> {
        stopping = true;
        if (outstanding == 0) {
          drained.complete(null);
        }
      });
      try {
        drained.get(timeoutSeconds, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new IllegalStateException("calls still outstanding " + timeoutSeconds + " s after the load stopped", e);
      }
    }

    long failed() {
      return failed;
    }

    long offThread() {
      return offThread;
    }

    String firstFailure() {
      return firstFailure;
    }
  }

  /** Runs an async load: warm-up, then rounds sampled by this (main) thread. */
  static Measured async(Context ctx, Supplier<Future<?>> call, Settings s, String placement) throws Exception {
    AsyncLoad load = new AsyncLoad(ctx, call, s.inFlight());
    load.start();
    Thread.sleep(TimeUnit.SECONDS.toMillis(s.warmupSeconds()));
    List<Round> rounds = new ArrayList<>();
    int rerun = 0;
    for (int r = 0; r < s.rounds(); r++) {
      long c0 = load.completed();
      long t0 = System.nanoTime();
      long cpu0 = processCpuNanos();
      long loop0 = threadCpuNanos(load.driverThread());
      Others others = new Others();
      Thread.sleep(TimeUnit.SECONDS.toMillis(s.roundSeconds()));
      long c1 = load.completed();
      long t1 = System.nanoTime();
      long cpu1 = processCpuNanos();
      long loop1 = threadCpuNanos(load.driverThread());
      long n = c1 - c0;
      Round round = new Round(n * 1e9 / (t1 - t0), Double.NaN, Double.NaN, n, cpuPerCall(cpu0, cpu1, n),
        cpuPerCall(loop0, loop1, n), others.cpus());
      if (rerun(round, rerun)) {
        rerun++;
        r--;
      } else {
        rounds.add(round);
      }
    }
    load.stop(60);
    String where = placement;
    if (load.offThread() > 0) {
      where += "; " + load.offThread() + " completions off the driver thread";
    }
    return new Measured(rounds, load.failed(), load.firstFailure(), where, rerun);
  }

  /** One blocking call. */
  interface BlockingCall {
    void call() throws Exception;
  }

  /**
   * Runs calls one after another on a virtual thread of a {@link ThreadingModel#VIRTUAL_THREAD}
   * verticle: warm-up, then the rounds, recording every call's latency.
   */
  static Measured sequential(Vertx vertx, BlockingCall call, Settings s) throws Exception {
    VirtualThreadVerticle v = new VirtualThreadVerticle();
    String id = await(vertx.deployVerticle(v, new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)), 30);
    try {
      CompletableFuture<List<Round>> result = new CompletableFuture<>();
      String[] thread = new String[1];
      int[] reruns = new int[1];
      v.ctx.runOnContext(x -> {
        try {
          thread[0] = Thread.currentThread().toString();
          List<Round> rounds = new ArrayList<>();
          loop(call, TimeUnit.SECONDS.toNanos(s.warmupSeconds()), null);
          for (int r = 0; r < s.rounds(); r++) {
            Round round = loop(call, TimeUnit.SECONDS.toNanos(s.roundSeconds()), new long[1 << 16]);
            if (rerun(round, reruns[0])) {
              reruns[0]++;
              r--;
            } else {
              rounds.add(round);
            }
          }
          result.complete(rounds);
        } catch (Throwable t) {
          result.completeExceptionally(t);
        }
      });
      long budget = s.warmupSeconds() + (long) (s.rounds() + RERUNS_LEFT.get()) * s.roundSeconds() + 60;
      List<Round> rounds;
      try {
        rounds = result.get(budget, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("sequential calls failed: " + e.getCause(), e.getCause());
      }
      return new Measured(rounds, 0, null, "virtual thread " + thread[0], reruns[0]);
    } finally {
      await(vertx.undeploy(id), 30);
    }
  }

  private static Round loop(BlockingCall call, long durationNanos, long[] samples) throws Exception {
    long cpu0 = processCpuNanos();
    Others others = new Others();
    long start = System.nanoTime();
    long end = start + durationNanos;
    long t = start;
    long n = 0;
    long[] lat = samples;
    while (t - end < 0) {
      call.call();
      long t2 = System.nanoTime();
      if (lat != null) {
        if (n == lat.length) {
          lat = Arrays.copyOf(lat, lat.length * 2);
        }
        lat[(int) n] = t2 - t;
      }
      n++;
      t = t2;
    }
    double perSecond = n * 1e9 / (t - start);
    double cpu = cpuPerCall(cpu0, processCpuNanos(), n);
    double othersCpus = others.cpus();
    if (lat == null) {
      return new Round(perSecond, Double.NaN, Double.NaN, n, cpu, Double.NaN, othersCpus);
    }
    long[] sorted = Arrays.copyOf(lat, (int) n);
    Arrays.sort(sorted);
    return new Round(perSecond, percentile(sorted, 0.50) / 1000.0, percentile(sorted, 0.99) / 1000.0, n, cpu, Double.NaN,
      othersCpus);
  }

  private static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  /** {@return the machine's 1, 5 and 15 minute load averages (from {@code /proc/loadavg}), or "?"} */
  static String average() {
    try {
      String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (java.io.IOException | RuntimeException e) {
      return "?";
    }
  }
}
