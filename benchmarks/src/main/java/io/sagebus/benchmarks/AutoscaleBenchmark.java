package io.sagebus.benchmarks;

import io.sagebus.AutoscalePolicy;
import io.sagebus.CallOptions;
import io.sagebus.ServiceOptions;
import io.sagebus.cluster.ClusterEnvironment;
import io.sagebus.cluster.ClusterOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A load step against an autoscaled service on two node JVMs: calls that take {@code --call-ms}
 * (20 ms) on replicas that run {@code --concurrency} (4) at once, sent open-loop (at a fixed rate,
 * whatever the answers) from this JVM, a lite member, at {@code --rate} (150 calls/s, 0.75 of one
 * replica) for {@code --low} s, then {@code --step} (4) times that for {@code --high} s, then back
 * for {@code --after} s. The service autoscales from 1 to {@code --max} (6) replicas, aiming at
 * {@code concurrency} calls in flight per replica, 2 s up and 10 s down. Each second it prints the
 * offered rate, the replicas wanted and the p99 latency of the calls answered in that second.
 * Then, as a same-run baseline, the same step against the same service with a fixed count of
 * {@code --max} replicas (what the autoscaled one may reach).
 * <p>
 * {@code java <ClusterBenchmark's JVM flags> -cp benchmarks/target/sagebus-benchmarks.jar
 * io.sagebus.benchmarks.AutoscaleBenchmark [--rate N] [--step N] [--call-ms N] [--concurrency N] [--max N]
 * [--p99-target-ms N (250)] [--low S] [--high S] [--after S]}
 */
public final class AutoscaleBenchmark {

  private static final String SERVICE = ServiceCallBenchmark.SERVICE;
  private static final CallOptions SLEEP = CallOptions.method("sleep").timeout(Duration.ofSeconds(30));
  /** Calls are sent every 10 ms. */
  private static final long TICK_MS = 10;

  private AutoscaleBenchmark() {
  }

  /**
   * Runs the benchmark.
   *
   * @param args see the class comment
   * @throws Exception when it cannot run
   */
  public static void main(String[] args) throws Exception {
    Map<String, Integer> o = new HashMap<>(Map.of("rate", 150, "step", 4, "call-ms", 20, "concurrency", 4, "max", 6,
      "p99-target-ms", 250, "low", 15, "high", 45, "after", 45));
    for (int i = 0; i < args.length; i++) {
      String key = args[i].replaceFirst("^--", "");
      if (!o.containsKey(key) || i + 1 >= args.length) {
        System.err.println("usage: AutoscaleBenchmark " + o.keySet().stream().map(k -> "[--" + k + " N]").toList());
        System.exit(2);
      }
      o.put(key, Integer.parseInt(args[++i]));
    }
    System.exit(run(o));
  }

  private static int run(Map<String, Integer> o) throws Exception {
    ClusterOptions options = new ClusterOptions().setClusterName("sagebus-bench-" + UUID.randomUUID()).setPort(16721);
    int rate = o.get("rate");
    int high = rate * o.get("step");
    int concurrency = o.get("concurrency");
    long callMs = o.get("call-ms");
    int max = o.get("max");
    long target = o.get("p99-target-ms");
    System.out.println("Sagebus autoscaling benchmark, " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    System.out.printf(Locale.ROOT, "  Java %s, %d available processors; this JVM (lite member, the caller) and two "
        + "node JVMs on 127.0.0.1%n  calls of %d ms, %d at once per replica (%d calls/s a replica); open loop: %d "
        + "calls/s for %d s, %d calls/s for %d s, %d calls/s for %d s; p99 target %d ms%n",
      System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), callMs, concurrency,
      1000 * concurrency / callMs, rate, o.get("low"), high, o.get("high"), rate, o.get("after"), target);
    Path dir = Files.createTempDirectory("sagebus-autoscale-bench");
    List<Process> nodes = new ArrayList<>();
    ClusterEnvironment env = null;
    int status = 0;
    try {
      // node-1 first: the oldest member, the one that decides.
      for (String node : List.of("node-1", "node-2")) {
        nodes.add(startNode(options, node, concurrency, dir));
      }
      env = Load.await(ClusterEnvironment.create(new ClusterOptions(options).setLiteMember(true), ClusterBenchmark.ENVIRONMENT), 60);
      AutoscalePolicy policy = AutoscalePolicy.create(1, max, concurrency).setUpscaleDelay(Duration.ofSeconds(2))
        .setDownscaleDelay(Duration.ofSeconds(10));
      System.out.println("  policy: " + policy.toJson().encode());
      env.registerService(SERVICE, BenchService.class, new ServiceOptions().setAutoscale(policy));
      Load.await(env.deploy(SERVICE), 60);
      Load.await(env.services().callAsync(SERVICE, SLEEP, 1L), 30);

      System.out.println();
      System.out.println("[autoscaled 1.." + max + " replicas]");
      Step autoscaled = step(env, o, rate, high, target);
      Load.await(env.undeploy(SERVICE), 60);

      env.registerService("bench-fixed", BenchService.class, new ServiceOptions().setInstances(max));
      Load.await(env.deploy("bench-fixed"), 60);
      System.out.println();
      System.out.println("[baseline: " + max + " fixed replicas, same step, " + o.get("low") + " s + " + o.get("high")
        + " s]");
      Map<String, Integer> shorter = new HashMap<>(o);
      shorter.put("after", 0);
      Step fixed = step(env, shorter, rate, high, target, "bench-fixed");

      System.out.println();
      System.out.println("Results");
      System.out.printf(Locale.ROOT, "  autoscaled: replicas %d -> %d (most %d) during the step, p99 under %d ms again %s "
          + "after the step began and stayed under; p99 over the last half of the step %.1f ms; back to %d replica(s) "
          + "%s after the load fell; %,d calls, %d failed%n",
        autoscaled.replicasAt(o.get("low") - 1), autoscaled.replicasAt(o.get("low") + o.get("high") - 1),
        autoscaled.mostReplicas, target, seconds(autoscaled.recoveredAfter), autoscaled.p99LateHigh,
        autoscaled.replicasAt(autoscaled.replicas.size() - 1), seconds(autoscaled.shrunkAfter), autoscaled.calls,
        autoscaled.failed);
      System.out.printf(Locale.ROOT, "  baseline (%d fixed): p99 under %d ms %s after the step began; p99 over the last "
          + "half of the step %.1f ms; %,d calls, %d failed%n", max, target, seconds(fixed.recoveredAfter),
        fixed.p99LateHigh, fixed.calls, fixed.failed);
    } catch (Exception e) {
      System.err.println("benchmark failed: " + e);
      e.printStackTrace();
      status = 1;
    } finally {
      if (env != null) {
        Load.await(env.close(), 60);
      }
      for (Process p : nodes) {
        ClusterBenchmark.stop(p);
      }
    }
    return status;
  }

  private static String seconds(int s) {
    return s < 0 ? "never" : s + " s";
  }

  /** What one load step gave, per second from its start. */
  private static final class Step {
    final List<Integer> replicas = new ArrayList<>();
    int mostReplicas;
    /** Seconds from the step's start until p99 stayed under target to the step's end; -1: never. */
    int recoveredAfter = -1;
    /** Seconds from the load's fall until replicas were back at min; -1: not within the run. */
    int shrunkAfter = -1;
    double p99LateHigh;
    long calls;
    long failed;

    int replicasAt(int second) {
      return replicas.isEmpty() ? 0 : replicas.get(Math.max(0, Math.min(second, replicas.size() - 1)));
    }
  }

  private static Step step(ClusterEnvironment env, Map<String, Integer> o, int low, int high, long target)
    throws Exception {
    return step(env, o, low, high, target, SERVICE);
  }

  private static Step step(ClusterEnvironment env, Map<String, Integer> o, int low, int high, long target,
                           String service) throws Exception {
    Vertx vertx = env.vertx();
    int lowS = o.get("low");
    int highS = o.get("high");
    int total = lowS + highS + o.get("after");
    long callMs = o.get("call-ms");
    ConcurrentLinkedQueue<long[]> answered = new ConcurrentLinkedQueue<>(); // {second answered, latency micros}
    AtomicLong failed = new AtomicLong();
    AtomicLong sent = new AtomicLong();
    Map<String, Integer> causes = new java.util.concurrent.ConcurrentHashMap<>();
    long start = System.nanoTime();
    double[] owed = new double[1];
    long timer = vertx.setPeriodic(TICK_MS, id -> {
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      int second = (int) (elapsedMs / 1000);
      if (second >= total) {
        return;
      }
      int perSecond = second >= lowS && second < lowS + highS ? high : low;
      owed[0] += perSecond * TICK_MS / 1000.0;
      while (owed[0] >= 1) {
        owed[0] -= 1;
        sent.incrementAndGet();
        long t0 = System.nanoTime();
        env.services().callAsync(service, SLEEP, callMs).onComplete(ar -> {
          long t1 = System.nanoTime();
          if (ar.succeeded()) {
            answered.add(new long[] {(t1 - start) / 1_000_000_000L, (t1 - t0) / 1000});
          } else {
            failed.incrementAndGet();
            causes.merge(ar.cause().getClass().getSimpleName() + ": " + ar.cause().getMessage(), 1, Integer::sum);
          }
        });
      }
    });
    Step step = new Step();
    System.out.println("     t  offered/s  replicas  answered  p99 ms");
    try {
      for (int s = 0; s < total; s++) {
        long wakeAt = start + TimeUnit.SECONDS.toNanos(s + 1);
        long sleep = TimeUnit.NANOSECONDS.toMillis(wakeAt - System.nanoTime());
        if (sleep > 0) {
          Thread.sleep(sleep);
        }
        int replicas = replicas(env, service);
        step.replicas.add(replicas);
        step.mostReplicas = Math.max(step.mostReplicas, replicas);
      }
      // The calls still out: wait for their answers (at most their 30 s timeout).
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(35);
      while (answered.size() + failed.get() < sent.get() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    } finally {
      vertx.cancelTimer(timer);
    }
    Map<Integer, List<Long>> bySecond = new HashMap<>();
    for (long[] a : answered) {
      bySecond.computeIfAbsent((int) a[0], k -> new ArrayList<>()).add(a[1]);
    }
    double[] p99 = new double[total];
    List<Long> lateHigh = new ArrayList<>();
    for (int s = 0; s < total; s++) {
      List<Long> lat = bySecond.getOrDefault(s, List.of());
      p99[s] = percentile(lat, 0.99) / 1000.0;
      if (s >= lowS + highS / 2 && s < lowS + highS) {
        lateHigh.addAll(lat);
      }
      System.out.printf(Locale.ROOT, "  %4d  %9d  %8d  %8d  %6.1f%n", s, s >= lowS && s < lowS + highS ? high : low,
        step.replicas.get(s), lat.size(), p99[s]);
    }
    step.p99LateHigh = percentile(lateHigh, 0.99) / 1000.0;
    for (int s = lowS + highS - 1; s >= lowS && p99[s] <= target; s--) {
      step.recoveredAfter = s - lowS;
    }
    int min = step.replicasAt(lowS - 1);
    for (int s = lowS + highS; s < total; s++) {
      if (step.replicas.get(s) <= min) {
        step.shrunkAfter = s - lowS - highS + 1;
        break;
      }
    }
    causes.forEach((cause, n) -> System.out.printf(Locale.ROOT, "  %d failed: %s%n", n, cause));
    step.calls = answered.size();
    step.failed = failed.get();
    return step;
  }

  private static int replicas(ClusterEnvironment env, String service) throws Exception {
    for (Object p : Load.await(env.placements(), 10)) {
      JsonObject placement = (JsonObject) p;
      if (service.equals(placement.getString("service"))) {
        return placement.getInteger("replicas");
      }
    }
    return 0;
  }

  private static double percentile(List<Long> values, double q) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  }

  private static Process startNode(ClusterOptions options, String nodeId, int concurrency, Path dir) throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    List<String> command = new ArrayList<>(List.of(java, "-Xmx256m"));
    command.addAll(ClusterBenchmark.JVM_FLAGS);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), ClusterBenchmark.Server.class.getName(),
      options.toJson().encode(), Long.toString(ProcessHandle.current().pid()), Integer.toString(concurrency), "100000",
      nodeId));
    File out = dir.resolve(nodeId + "-out.txt").toFile();
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.readString(out.toPath()).contains(ClusterBenchmark.Server.READY)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new IllegalStateException("node " + nodeId + " did not start: " + Files.readString(out.toPath()));
      }
      Thread.sleep(50);
    }
    System.out.println("  " + nodeId + " started (pid " + p.pid() + ", output in " + out + ")");
    return p;
  }
}
