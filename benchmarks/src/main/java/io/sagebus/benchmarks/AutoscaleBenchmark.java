package io.sagebus.benchmarks;

import com.hazelcast.map.IMap;
import io.sagebus.AutoscalePolicy;
import io.sagebus.CallOptions;
import io.sagebus.ServiceOptions;
import io.sagebus.cluster.ClusterEnvironment;
import io.sagebus.cluster.ClusterOptions;
import io.sagebus.cluster.SagebusCluster;
import io.sagebus.cluster.impl.Coordinator;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A load step against an autoscaled service on two node JVMs. Calls take {@code --call-ms} (20 ms: the
 * method sleeps) on replicas that run {@code --concurrency} (4) at once; they are sent open-loop (at a
 * fixed rate, whatever the answers) from this JVM, a lite member: {@code --rate} calls/s (80) for
 * {@code --low} s (15), {@code --step} (4) times that for {@code --high} s (45), then {@code --rate}
 * again for {@code --after} s (45). The service autoscales from 1 to {@code --max} (6) replicas, aiming
 * at {@code --target} (2) calls in flight per replica (half a replica's slots), {@code --up} s (2) up and
 * {@code --down} s (10) down.
 * <p>
 * First, as a same-run baseline, the same step (without the tail) against the same service at a fixed
 * {@code --max} replicas, the most the autoscaled one may reach: what p99 the machine gives now with
 * enough replicas. It also warms the JIT of every JVM. Then the autoscaled run. Each prints one line a
 * second: calls offered and answered, the replicas the placement wants, the calls in flight per running
 * replica as the autoscaler sees them (running and queued, from the nodes' load records, read four times a
 * second and averaged), and the p99
 * latency of the calls answered in that second, also as a multiple of the p99 target
 * ({@code --p99-target-ms}, by default 5 times the call time). The summary puts each figure beside its
 * reference: the replicas beside what the policy asks for at each rate, the p99 beside the target and
 * the baseline's, the shrink beside the downscale delay; and the CPU time of the three JVMs per 1,000
 * calls, the one figure that means much on a loaded machine. The machine's load average is printed at
 * the start and the end.
 * <p>
 * {@code java <ClusterBenchmark's JVM flags> -cp benchmarks/target/sagebus-benchmarks.jar
 * io.sagebus.benchmarks.AutoscaleBenchmark [--rate N] [--step N] [--call-ms N] [--concurrency N] [--target N]
 * [--max N] [--up S] [--down S] [--p99-target-ms N] [--low S] [--high S] [--after S]}
 */
public final class AutoscaleBenchmark {

  private static final String SERVICE = ServiceCallBenchmark.SERVICE;
  private static final String FIXED = "bench-fixed";
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
    Map<String, Integer> o = new LinkedHashMap<>();
    o.put("rate", 80);
    o.put("step", 4);
    o.put("call-ms", 20);
    o.put("concurrency", 4);
    o.put("target", 2);
    o.put("max", 6);
    o.put("up", 2);
    o.put("down", 10);
    o.put("p99-target-ms", 0);
    o.put("low", 15);
    o.put("high", 45);
    o.put("after", 45);
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
    int targetInFlight = o.get("target");
    long p99Target = o.get("p99-target-ms") > 0 ? o.get("p99-target-ms") : 5 * callMs;
    System.out.println("Sagebus autoscaling benchmark, " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    System.out.printf(Locale.ROOT, "  Java %s, %d available processors, load average %s; this JVM (lite member, the "
        + "caller) and two node JVMs on 127.0.0.1%n  calls of %d ms, %d at once per replica (%d calls/s a replica); "
        + "open loop: %d calls/s for %d s, %d calls/s for %d s, %d calls/s for %d s; p99 target %d ms (%.1fx the "
        + "call)%n", System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), Load.average(),
      callMs, concurrency, 1000 * concurrency / callMs, rate, o.get("low"), high, o.get("high"), rate, o.get("after"),
      p99Target, (double) p99Target / callMs);
    Path dir = Files.createTempDirectory("sagebus-autoscale-bench");
    List<Process> nodes = new ArrayList<>();
    ClusterEnvironment env = null;
    int status = 0;
    try {
      // node-1 first: the oldest member, the one that decides.
      for (String node : List.of("node-1", "node-2")) {
        nodes.add(startNode(options, node, concurrency, dir));
      }
      env = Load.await(ClusterEnvironment.create(new ClusterOptions(options).setLiteMember(true),
        ClusterBenchmark.ENVIRONMENT), 60);

      env.registerService(FIXED, BenchService.class, new ServiceOptions().setInstances(max));
      Load.await(env.deploy(FIXED), 60);
      Load.await(env.services().callAsync(FIXED, SLEEP, 1L), 30);
      System.out.println();
      System.out.println("[baseline: " + max + " fixed replicas, the same step without its tail, " + o.get("low")
        + " s + " + o.get("high") + " s]");
      Map<String, Integer> noTail = new HashMap<>(o);
      noTail.put("after", 0);
      Phase fixed = phase(env, nodes, FIXED, noTail, rate, high, p99Target, false);
      Load.await(env.undeploy(FIXED), 60);

      AutoscalePolicy policy = AutoscalePolicy.create(1, max, targetInFlight)
        .setUpscaleDelay(Duration.ofSeconds(o.get("up"))).setDownscaleDelay(Duration.ofSeconds(o.get("down")));
      env.registerService(SERVICE, BenchService.class, new ServiceOptions().setAutoscale(policy));
      Load.await(env.deploy(SERVICE), 60);
      Load.await(env.services().callAsync(SERVICE, SLEEP, 1L), 30);
      System.out.println();
      System.out.println("[autoscaled 1.." + max + " replicas, policy " + policy.toJson().encode() + "]");
      Phase scaled = phase(env, nodes, SERVICE, o, rate, high, p99Target, true);
      Load.await(env.undeploy(SERVICE), 60);

      int low = o.get("low");
      int highS = o.get("high");
      double wantLow = Math.max(1, Math.min(max, Math.ceil(rate * callMs / 1000.0 / targetInFlight)));
      double wantHigh = Math.max(1, Math.min(max, Math.ceil(high * callMs / 1000.0 / targetInFlight)));
      System.out.println();
      System.out.println("Results (the machine's load average now: " + Load.average() + ")");
      System.out.printf(Locale.ROOT, "  autoscaled replicas: %d before the step (policy at %d calls/s of %d ms: %.0f), "
          + "first more %s after the step began (upscale delay %d s), most %d (policy at %d calls/s: %.0f, max %d), %d at "
          + "the step's end; back to %d %s after the load fell (downscale delay %d s)%n",
        scaled.replicasAt(low - 1), rate, callMs, wantLow, seconds(scaled.grewAfter), o.get("up"), scaled.mostReplicas,
        high, wantHigh, max, scaled.replicasAt(low + highS - 1), scaled.replicasAt(scaled.replicas.size() - 1),
        seconds(scaled.shrunkAfter), o.get("down"));
      System.out.printf(Locale.ROOT, "  p99 over the second half of the step: autoscaled %.1f ms (%.2fx the target, "
          + "%.2fx the baseline's), baseline %.1f ms (%.2fx the target)%n", scaled.p99LateHigh,
        scaled.p99LateHigh / p99Target, scaled.p99LateHigh / fixed.p99LateHigh, fixed.p99LateHigh,
        fixed.p99LateHigh / p99Target);
      System.out.printf(Locale.ROOT, "  per-second p99 under the target again %s after the step began, then under it "
          + "in %d of the step's %d remaining seconds (baseline: %s, %d of %d)%n", seconds(scaled.recoveredAfter),
        scaled.secondsUnder, scaled.secondsAfter, seconds(fixed.recoveredAfter), fixed.secondsUnder,
        fixed.secondsAfter);
      System.out.printf(Locale.ROOT, "  in flight per replica over the second half of the step: %.2f (target %d); "
          + "calls: autoscaled %,d answered, %d failed; baseline %,d answered, %d failed%n", scaled.inFlightLateHigh,
        targetInFlight, scaled.calls, scaled.failed, fixed.calls, fixed.failed);
      System.out.printf(Locale.ROOT, "  CPU time of the three JVMs per 1,000 calls: autoscaled %.0f ms, baseline %.0f ms"
        + "%n", scaled.cpuMillisPerThousand, fixed.cpuMillisPerThousand);
      if (scaled.failed > 0 || fixed.failed > 0) {
        status = 1;
      }
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
  private static final class Phase {
    final List<Integer> replicas = new ArrayList<>();
    int mostReplicas;
    /** Seconds from the step's start until the replicas first grew; -1: never. */
    int grewAfter = -1;
    /** Seconds from the step's start until p99 was under the target again (0: never over it); -1: never. */
    int recoveredAfter = -1;
    /** Of the step's seconds from then on, how many were under the target. */
    int secondsUnder;
    int secondsAfter;
    /** Seconds from the load's fall until replicas were back at the count before the step; -1: not within the run. */
    int shrunkAfter = -1;
    double p99LateHigh;
    double inFlightLateHigh;
    long calls;
    long failed;
    double cpuMillisPerThousand;

    int replicasAt(int second) {
      return replicas.isEmpty() ? 0 : replicas.get(Math.max(0, Math.min(second, replicas.size() - 1)));
    }
  }

  private static Phase phase(ClusterEnvironment env, List<Process> nodes, String service, Map<String, Integer> o,
                             int low, int high, long p99Target, boolean autoscaled) throws Exception {
    Vertx vertx = env.vertx();
    IMap<String, String> loads = SagebusCluster.hazelcast(vertx)
      .getMap(Coordinator.mapName(ClusterBenchmark.ENVIRONMENT, "load"));
    int lowS = o.get("low");
    int highS = o.get("high");
    int total = lowS + highS + o.get("after");
    long callMs = o.get("call-ms");
    ConcurrentLinkedQueue<long[]> answered = new ConcurrentLinkedQueue<>(); // {second answered, latency micros}
    AtomicLong failed = new AtomicLong();
    AtomicLong sent = new AtomicLong();
    Map<String, Integer> causes = new ConcurrentHashMap<>();
    long cpuBefore = cpuNanos(nodes);
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
    Phase phase = new Phase();
    List<Double> inFlight = new ArrayList<>();
    List<Integer> running = new ArrayList<>();
    try {
      for (int s = 0; s < total; s++) {
        // The nodes publish their load every 500 ms: read it four times a second, and average.
        double sum = 0;
        int reads = 0;
        for (int quarter = 1; quarter <= 4; quarter++) {
          long wakeAt = start + TimeUnit.SECONDS.toNanos(s) + TimeUnit.MILLISECONDS.toNanos(250L * quarter);
          long sleep = TimeUnit.NANOSECONDS.toMillis(wakeAt - System.nanoTime());
          if (sleep > 0) {
            Thread.sleep(sleep);
          }
          double now = inFlightPerReplica(loads, service);
          if (!Double.isNaN(now)) {
            sum += now;
            reads++;
          }
        }
        int[] replicas = replicas(env, service);
        phase.replicas.add(replicas[0]);
        running.add(replicas[1]);
        phase.mostReplicas = Math.max(phase.mostReplicas, replicas[0]);
        inFlight.add(reads == 0 ? Double.NaN : sum / reads);
      }
      // The calls still out: wait for their answers (at most their 30 s timeout).
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(35);
      while (answered.size() + failed.get() < sent.get() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    } finally {
      vertx.cancelTimer(timer);
    }
    long cpu = cpuNanos(nodes) - cpuBefore;
    Map<Integer, List<Long>> bySecond = new HashMap<>();
    for (long[] a : answered) {
      bySecond.computeIfAbsent((int) a[0], k -> new ArrayList<>()).add(a[1]);
    }
    double[] p99 = new double[total];
    List<Long> lateHigh = new ArrayList<>();
    double lateInFlight = 0;
    int lateSeconds = 0;
    System.out.println("     t  offered/s  answered  replicas wanted/running  in flight/replica  p99 ms  p99/target");
    for (int s = 0; s < total; s++) {
      List<Long> lat = bySecond.getOrDefault(s, List.of());
      p99[s] = percentile(lat, 0.99) / 1000.0;
      if (s >= lowS + highS / 2 && s < lowS + highS) {
        lateHigh.addAll(lat);
        if (!Double.isNaN(inFlight.get(s))) {
          lateInFlight += inFlight.get(s);
          lateSeconds++;
        }
      }
      System.out.printf(Locale.ROOT, "  %4d  %9d  %8d  %23s  %17s  %6.1f  %10.2f%n", s,
        s >= lowS && s < lowS + highS ? high : low, lat.size(), phase.replicas.get(s) + "/" + running.get(s),
        Double.isNaN(inFlight.get(s)) ? "-" : String.format(Locale.ROOT, "%.2f", inFlight.get(s)), p99[s],
        p99[s] / p99Target);
    }
    phase.p99LateHigh = percentile(lateHigh, 0.99) / 1000.0;
    phase.inFlightLateHigh = lateSeconds == 0 ? Double.NaN : lateInFlight / lateSeconds;
    // Back under the target: the first second of the step at or under it after one over it (or the first, if
    // none was over); then how many of the step's seconds from there on were under it.
    boolean over = false;
    for (int s = lowS; s < lowS + highS; s++) {
      over |= p99[s] > p99Target;
      if (over && p99[s] <= p99Target) {
        phase.recoveredAfter = s - lowS;
        break;
      }
    }
    if (!over) {
      phase.recoveredAfter = 0;
    }
    if (phase.recoveredAfter >= 0) {
      for (int s = lowS + phase.recoveredAfter; s < lowS + highS; s++) {
        phase.secondsAfter++;
        phase.secondsUnder += p99[s] <= p99Target ? 1 : 0;
      }
    }
    int before = phase.replicasAt(lowS - 1);
    for (int s = lowS; s < lowS + highS; s++) {
      if (phase.replicas.get(s) > before) {
        phase.grewAfter = s - lowS + 1;
        break;
      }
    }
    if (autoscaled) {
      for (int s = lowS + highS; s < total; s++) {
        if (phase.replicas.get(s) <= before) {
          phase.shrunkAfter = s - lowS - highS + 1;
          break;
        }
      }
    }
    causes.forEach((cause, n) -> System.out.printf(Locale.ROOT, "  %d failed: %s%n", n, cause));
    phase.calls = answered.size();
    phase.failed = failed.get();
    long calls = Math.max(1, phase.calls + phase.failed);
    phase.cpuMillisPerThousand = cpu / 1_000_000.0 / calls * 1000;
    return phase;
  }

  /** {@return the CPU time this JVM and the node JVMs have used so far, in ns} */
  private static long cpuNanos(List<Process> nodes) {
    long total = ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    for (Process p : nodes) {
      total += p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }
    return total;
  }

  /** {@return the calls running and queued per running replica of the service, as the nodes publish them} */
  private static double inFlightPerReplica(IMap<String, String> loads, String service) {
    double calls = 0;
    int replicas = 0;
    for (String raw : loads.values()) {
      JsonObject one = new JsonObject(raw).getJsonObject("services", new JsonObject()).getJsonObject(service);
      if (one != null) {
        calls += one.getInteger("inFlight", 0) + one.getInteger("queued", 0);
        replicas += one.getInteger("replicas", 0);
      }
    }
    return replicas == 0 ? Double.NaN : calls / replicas;
  }

  /** {@return the replicas the service's placement wants, and those it records running} */
  private static int[] replicas(ClusterEnvironment env, String service) throws Exception {
    for (Object p : Load.await(env.placements(), 10)) {
      JsonObject placement = (JsonObject) p;
      if (service.equals(placement.getString("service"))) {
        int running = 0;
        for (String node : placement.getJsonObject("nodes").fieldNames()) {
          running += placement.getJsonObject("nodes").getInteger(node);
        }
        return new int[] {placement.getInteger("replicas"), running};
      }
    }
    return new int[] {0, 0};
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
