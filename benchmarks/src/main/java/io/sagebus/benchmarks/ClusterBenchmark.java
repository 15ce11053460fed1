package io.sagebus.benchmarks;

import io.sagebus.CallOptions;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceOptions;
import io.sagebus.cluster.ClusterEnvironment;
import io.sagebus.cluster.ClusterOptions;
import io.sagebus.cluster.NodeAgentVerticle;
import io.sagebus.cluster.SagebusCluster;
import io.sagebus.cluster.ServiceCatalog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Clustered calls between two JVMs on this machine, beside raw clustered event-bus
 * request-reply in the same run: this JVM (a Hazelcast member running a {@link ClusterEnvironment})
 * calls a service whose only replica runs on a node JVM that this benchmark starts from its own
 * jar; the node also consumes a raw echo address. Cases: (1a) raw request-reply, 256 in flight;
 * (1b) raw, sequential from a virtual thread, p50/p99; (2) Sagebus {@code callAsync} of a
 * Future-returning method, 256 in flight; (3) of a plain-value method; (4) Sagebus {@code call()}
 * sequential. Target: (2) and (3) at least 0.7x of (1a).
 * <p>
 * {@code java -cp benchmarks/target/sagebus-benchmarks.jar io.sagebus.benchmarks.ClusterBenchmark}
 * takes the options of {@link ServiceCallBenchmark} ({@code --help}); cases 3d and 1a-end do not exist here.
 */
public final class ClusterBenchmark {

  static final String ENVIRONMENT = "bench";
  static final String NODE = "bench-node";
  static final double TARGET = 0.7;
  /** Hazelcast's access to JDK internals (else it warns and runs slower paths). */
  static final List<String> JVM_FLAGS = List.of("--add-modules", "java.se",
    "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED", "--add-opens", "java.base/java.lang=ALL-UNNAMED",
    "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens", "java.management/sun.management=ALL-UNNAMED",
    "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "-Dhazelcast.phone.home.enabled=false");
  private static final CallOptions ECHO = CallOptions.method("echo");

  private ClusterBenchmark() {
  }

  /**
   * Runs the benchmark.
   *
   * @param args see {@code --help}
   * @throws Exception when it cannot run
   */
  public static void main(String[] args) throws Exception {
    Settings s;
    try {
      s = Settings.parse(args);
    } catch (Settings.UsageException e) {
      if (e.getMessage() != null) {
        System.err.println("error: " + e.getMessage());
      }
      (e.getMessage() == null ? System.out : System.err).printf(Settings.USAGE, List.of("1a", "1b", "2", "3", "4"));
      System.exit(e.getMessage() == null ? 0 : 2);
      return;
    }
    System.exit(run(s));
  }

  private static int run(Settings s) throws Exception {
    ClusterOptions options = new ClusterOptions()
      .setClusterName("sagebus-bench-" + UUID.randomUUID())
      .setPort(16701);
    System.out.println("Sagebus clustered-call benchmark, " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    System.out.printf(Locale.ROOT, "  Java %s, %d available processors; two JVMs on 127.0.0.1 (this one and a node); "
        + "each case: %d s warm-up, %d rounds of %d s, median reported; async cases keep %d calls in flight%n",
      System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), s.warmupSeconds(), s.rounds(),
      s.roundSeconds(), s.inFlight());
    System.out.println("  'others' below counts the node JVM too (it runs the consumers), so no round is measured again"
      + " for being disturbed; run on a quiet machine");
    // The node's CPU shows as other processes' CPU: a "disturbed" round is the normal case here.
    Load.RERUNS_LEFT.set(0);
    Path dir = Files.createTempDirectory("sagebus-bench");
    Process node = startNode(options, s, dir);
    ClusterEnvironment env = null;
    int status = 0;
    try {
      env = Load.await(ClusterEnvironment.create(options, ENVIRONMENT), 60);
      Vertx vertx = env.vertx();
      awaitVisible(vertx, Server.RAW_ADDRESS, node, dir);
      ServiceOptions tuned = new ServiceOptions().setMaxConcurrency(s.maxConcurrency()).setMaxQueued(s.maxQueued());
      env.registerService(ServiceCallBenchmark.SERVICE, BenchService.class, tuned);
      Load.await(env.start(), 60);
      System.out.println("  service placed: " + env.placements().await().encode());
      ServiceClient client = env.services();
      JsonObject payload = new JsonObject().put("id", 42).put("name", "sagebus").put("ok", true);
      check(Load.await(client.callAsync(ServiceCallBenchmark.SERVICE, ECHO, payload), 30), payload);
      check(Load.await(vertx.eventBus().<JsonObject>request(Server.RAW_ADDRESS, payload), 30).body(), payload);
      System.out.println();

      Map<String, Load.Measured> results = new LinkedHashMap<>();
      List<String> drivers = new ArrayList<>();
      results.put("1a", async(vertx, drivers, s, "1a raw clustered request-reply",
        () -> vertx.eventBus().request(Server.RAW_ADDRESS, payload)));
      results.put("1b", sequential(vertx, s, "1b raw clustered request-reply, sequential",
        () -> vertx.eventBus().request(Server.RAW_ADDRESS, payload).await()));
      results.put("2", async(vertx, drivers, s, "2 Sagebus callAsync, Future method",
        () -> client.callAsync(ServiceCallBenchmark.SERVICE, ECHO, payload)));
      results.put("3", async(vertx, drivers, s, "3 Sagebus callAsync, plain method",
        () -> client.callAsync(ServiceCallBenchmark.SERVICE, payload)));
      results.put("4", sequential(vertx, s, "4 Sagebus call(), sequential",
        () -> client.call(ServiceCallBenchmark.SERVICE, payload)));

      Load.Measured raw = results.get("1a");
      Load.Measured rawSeq = results.get("1b");
      System.out.println();
      System.out.println("Results (median round; ratios against this run's raw clustered request-reply)");
      for (Map.Entry<String, Load.Measured> e : results.entrySet()) {
        Load.Measured m = e.getValue();
        boolean latency = !Double.isNaN(m.medianP50());
        Load.Measured base = latency ? rawSeq : raw;
        String figure = latency
          ? String.format(Locale.ROOT, "p50 %.1f µs, p99 %.1f µs, %,.0f calls/s", m.medianP50(), m.medianP99(),
            m.medianRate())
          : String.format(Locale.ROOT, "%,.0f calls/s", m.medianRate());
        String ratio = m == base ? "baseline" : latency
          ? String.format(Locale.ROOT, "p50 %+.1f µs, %.2fx calls/s", m.medianP50() - base.medianP50(),
            m.medianRate() / base.medianRate())
          : String.format(Locale.ROOT, "%.2fx", m.medianRate() / base.medianRate());
        System.out.printf(Locale.ROOT, "  %-3s %-44s %s%s%n", e.getKey(), figure, ratio,
          m.failures() > 0 ? String.format(Locale.ROOT, " (%,d failed)", m.failures()) : "");
      }
      for (String id : List.of("2", "3")) {
        double r = results.get(id).medianRate() / raw.medianRate();
        System.out.printf(Locale.ROOT, "Target %s >= %.1fx raw clustered: %.2fx %s%n", id, TARGET, r,
          r >= TARGET ? "PASS" : "MISS");
      }
    } catch (Exception e) {
      System.err.println("benchmark failed: " + e);
      e.printStackTrace();
      status = 1;
    } finally {
      if (env != null) {
        Load.await(env.close(), 60);
      }
      stop(node);
    }
    return status;
  }

  /** Stops a node JVM: SIGTERM, then SIGKILL after 20 s. */
  static void stop(Process node) throws InterruptedException {
    node.destroy();
    if (!node.waitFor(20, TimeUnit.SECONDS)) {
      node.destroyForcibly();
    }
  }

  private static Load.Measured async(Vertx vertx, List<String> drivers, Settings s, String label,
                                     Supplier<Future<?>> call) throws Exception {
    System.gc();
    System.out.println("[" + label + "] ...");
    Load.DriverVerticle driver = Load.deployDriver(vertx, "remote", false, drivers);
    try {
      return print(Load.async(driver.ctx, call, s, "driver " + driver.thread + ", consumer on the node"));
    } finally {
      while (!drivers.isEmpty()) {
        Load.await(vertx.undeploy(drivers.remove(drivers.size() - 1)), 30);
      }
    }
  }

  private static Load.Measured sequential(Vertx vertx, Settings s, String label, Load.BlockingCall call)
    throws Exception {
    System.gc();
    System.out.println("[" + label + "] ...");
    return print(Load.sequential(vertx, call, s));
  }

  private static Load.Measured print(Load.Measured m) {
    StringBuilder sb = new StringBuilder("     rounds:");
    for (Load.Round r : m.rounds()) {
      sb.append(Double.isNaN(r.p50Micros())
        ? String.format(Locale.ROOT, " [%,.0f /s, others %.2f CPU]", r.perSecond(), r.othersCpus())
        : String.format(Locale.ROOT, " [p50 %.1f µs, p99 %.1f µs, others %.2f CPU]", r.p50Micros(), r.p99Micros(),
          r.othersCpus()));
    }
    System.out.println(sb);
    return m;
  }

  private static void check(Object got, JsonObject expected) {
    if (!expected.equals(got)) {
      throw new IllegalStateException("answered " + got + ", expected " + expected);
    }
  }

  private static Process startNode(ClusterOptions options, Settings s, Path dir) throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    String classpath = System.getProperty("java.class.path");
    List<String> command = new ArrayList<>(List.of(java, "-Xmx512m"));
    command.addAll(JVM_FLAGS);
    command.addAll(List.of("-cp", classpath, Server.class.getName(), options.toJson().encode(),
      Long.toString(ProcessHandle.current().pid()), Integer.toString(s.maxConcurrency()),
      Integer.toString(s.maxQueued())));
    File out = dir.resolve("node-out.txt").toFile();
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.readString(out.toPath()).contains(Server.READY)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new IllegalStateException("the node did not start: " + Files.readString(out.toPath()));
      }
      Thread.sleep(50);
    }
    System.out.println("  node started (pid " + p.pid() + ", output in " + out + ")");
    return p;
  }

  private static void awaitVisible(Vertx vertx, String address, Process node, Path dir) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        vertx.eventBus().request(address, new JsonObject(), new DeliveryOptions().setSendTimeout(2000)).await();
        return;
      } catch (ReplyException e) {
        if (e.failureType() != ReplyFailure.NO_HANDLERS || System.nanoTime() > deadline || !node.isAlive()) {
          throw new IllegalStateException("the node's echo is not reachable: " + e + "; node output: "
            + Files.readString(dir.resolve("node-out.txt")));
        }
      }
      Thread.sleep(20);
    }
  }

  /**
   * The node JVM: a clustered Vertx with a raw echo consumer and a node agent whose catalogue
   * holds the benchmark service. Args: cluster options (JSON), parent pid, maxConcurrency, maxQueued, and
   * optionally the node id (default {@value ClusterBenchmark#NODE}).
   */
  public static final class Server {
    static final String RAW_ADDRESS = "bench.cluster.raw.echo";
    static final String READY = "benchmark node ready";

    private Server() {
    }

    /**
     * Starts the node; it ends when its parent does.
     *
     * @param args cluster options (JSON), parent pid, maxConcurrency, maxQueued, optionally the node id
     * @throws Exception when it cannot start
     */
    public static void main(String[] args) throws Exception {
      ClusterOptions options = new ClusterOptions(new JsonObject(args[0]));
      ProcessHandle.of(Long.parseLong(args[1])).ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
      Vertx vertx = SagebusCluster.vertx(options).await();
      vertx.eventBus().<JsonObject>consumer(RAW_ADDRESS, m -> m.reply(m.body())).completion().await();
      ServiceOptions service = new ServiceOptions().setMaxConcurrency(Integer.parseInt(args[2]))
        .setMaxQueued(Integer.parseInt(args[3]));
      // bench-fixed: AutoscaleBenchmark's baseline, the same service at a fixed count.
      ServiceCatalog catalog = ServiceCatalog.create().add(ServiceCallBenchmark.SERVICE, BenchService.class, service)
        .add("bench-fixed", BenchService.class, service);
      String nodeId = args.length > 4 ? args[4] : NODE;
      vertx.deployVerticle(NodeAgentVerticle.clustered(ENVIRONMENT, nodeId, catalog)).await();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> vertx.close().await()));
      System.out.println(READY + " " + Arrays.toString(args));
    }
  }
}
