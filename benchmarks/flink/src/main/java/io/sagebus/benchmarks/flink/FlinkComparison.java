package io.sagebus.benchmarks.flink;

import io.sagebus.Chaining;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * Runs the workloads of issue 14 on Flink 2.3 (local MiniCluster, parallelism 1) and on Sagebus, one JVM per
 * (engine, case, round), Flink and Sagebus rounds interleaved, and prints the table with Sagebus/Flink ratios,
 * per-process figures (wall time from launch, CPU seconds, peak RSS) and the targets marked PASS or MISS.
 * <p>
 * {@code java -jar benchmarks/flink/target/sagebus-flink-benchmark.jar [--rounds N] [--quick] [--only ids]}
 */
public final class FlinkComparison {

  private static final String USAGE = """
    Usage: java -jar benchmarks/flink/target/sagebus-flink-benchmark.jar [options]
      --rounds N           rounds; each round runs every case once on each engine, one JVM per run (default 2);
                           odd rounds start each case with Flink, even rounds with Sagebus; medians are reported
      --quick              a tenth of the records (a twentieth for the sync-call cases): a smoke check, about
                           2 minutes per round on 2 cores instead of about 5
      --only IDS           comma-separated case ids (default: all of %s)
      --sagebus-delay D    what completes the Sagebus 5 ms service's calls: 'timer', a Vert.x timer (default; on
                           a 2-core VM it fires after about 5.1 ms on epoll, 5.2-5.6 ms on NIO), or 'scheduler', a
                           ScheduledExecutorService, as on the Flink side
      --sagebus-chaining M the Sagebus jobs' JobOptions chaining: 'async-sinks' (default, Sagebus's default: only a
                           sink reading a mapAsync is chained to it), 'all' (every operator that can be, as Flink
                           chains by default) or 'none' (a queue and a thread per operator instance)
      --sagebus-transport T
                           the transport the Sagebus side's Vertx uses: 'native' (default: Netty's epoll on Linux
                           x86_64, NIO elsewhere) or 'nio'
      --sagebus-blocking   the 5 ms cases' mapAsync function not declared nonBlocking: its calls start on the
                           operator's virtual thread only (by default it is declared so, and calls start where
                           earlier ones end, on the service's event loop)
      --logs DIR           keep every child JVM's stdout and stderr in DIR (default: a temporary directory,
                           deleted at the end unless a run failed)
      --help               this text
    """;

  private FlinkComparison() {
  }

  /**
   * Runs the comparison.
   *
   * @param args see {@code --help}
   * @throws Exception when a child JVM fails (its output is printed first)
   */
  public static void main(String[] args) throws Exception {
    int rounds = 2;
    boolean quick = false;
    Set<Workload> cases = new LinkedHashSet<>();
    Path logs = null;
    String delay = "timer";
    String chaining = "async-sinks";
    String transport = "native";
    boolean nonBlocking = true;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(value(args, ++i));
        case "--quick" -> quick = true;
        case "--only" -> {
          for (String id : value(args, ++i).split(",")) {
            cases.add(Workload.byId(id.trim()));
          }
        }
        case "--logs" -> logs = Path.of(value(args, ++i));
        case "--sagebus-chaining" -> chaining = Chaining.fromJson(value(args, ++i)).toJson();
        case "--sagebus-transport" -> {
          transport = value(args, ++i);
          if (!transport.equals("native") && !transport.equals("nio")) {
            throw new IllegalArgumentException("--sagebus-transport takes 'native' or 'nio', got '" + transport + "'");
          }
        }
        case "--sagebus-blocking" -> nonBlocking = false;
        case "--sagebus-delay" -> {
          delay = value(args, ++i);
          if (!delay.equals("timer") && !delay.equals("scheduler")) {
            throw new IllegalArgumentException("--sagebus-delay takes 'timer' or 'scheduler', got '" + delay + "'");
          }
        }
        case "--help", "-h" -> {
          System.out.printf(USAGE, Workload.ids());
          return;
        }
        default -> {
          System.err.printf("unknown option %s%n" + USAGE, args[i], Workload.ids());
          System.exit(2);
        }
      }
    }
    if (rounds < 1) {
      throw new IllegalArgumentException("--rounds must be at least 1");
    }
    if (cases.isEmpty()) {
      cases.addAll(Arrays.asList(Workload.values()));
    }
    boolean keepLogs = logs != null;
    Path logDir = keepLogs ? Files.createDirectories(logs) : Files.createTempDirectory("sagebus-beside-flink");

    System.out.printf(Locale.ROOT, "Sagebus beside Flink %s: %d cores, Java %s (%s), %d round(s)%s, one JVM per run,"
        + " Flink and Sagebus interleaved; the 5 ms delay: Flink a ScheduledExecutorService, Sagebus %s%n", flinkVersion(),
      Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), System.getProperty("java.vm.name"), rounds,
      quick ? ", --quick" : "", delay.equals("timer") ? "a Vert.x timer" : "a ScheduledExecutorService");
    System.out.println(nonBlocking
      ? "The Sagebus 5 ms cases declare their mapAsync function nonBlocking: calls start where earlier ones end"
        + " (--sagebus-blocking: on the operator's thread only)"
      : "The Sagebus 5 ms cases' mapAsync function is not declared nonBlocking: calls start on the operator's thread");
    System.out.println(switch (Chaining.fromJson(chaining)) {
      case ALL -> "Sagebus jobs chain every operator they can (Chaining.ALL, as Flink does by default)";
      case NONE -> "Sagebus jobs chain no operator: a queue and a thread per operator instance (Chaining.NONE; Flink chains)";
      case ASYNC_SINKS -> "Sagebus jobs use its default chaining: a sink reading a mapAsync runs on the thread that emits its"
        + " results, every other operator instance has a queue and a thread (Flink chains every operator)";
    });
    System.out.println(transport.equals("native")
      ? "Sagebus's Vertx prefers Netty's native transport (epoll on Linux x86_64; --sagebus-transport nio for NIO)"
      : "Sagebus's Vertx uses NIO (--sagebus-transport nio)");
    Map<String, List<JsonObject>> results = new LinkedHashMap<>();
    long start = System.nanoTime();
    for (int r = 1; r <= rounds; r++) {
      for (Workload w : cases) {
        List<String> engines = !w.onFlink ? List.of("sagebus") : r % 2 == 1 ? List.of("flink", "sagebus")
          : List.of("sagebus", "flink");
        for (String engine : engines) {
          double loadBefore = ProcessFigures.loadAverage();
          JsonObject json = runChild(engine, w, quick, delay, chaining, transport, nonBlocking, logDir, r);
          json.put("loadBefore", loadBefore).put("loadAfter", ProcessFigures.loadAverage());
          results.computeIfAbsent(engine + "/" + w.id, k -> new ArrayList<>()).add(json);
          System.out.printf(Locale.ROOT, "round %d/%d  %-16s %-7s job %,9.0f rec/s (%6.2f s)  wall %6.2f s  cpu %6.2f s"
              + " (%5.2f us/rec)  peak rss %5.0f MB  load %.1f-%.1f%n", r, rounds, w.id, engine,
            json.getInteger("records") / json.getDouble("jobSeconds"), json.getDouble("jobSeconds"),
            json.getDouble("wallSeconds"), json.getDouble("cpuSeconds"),
            json.getDouble("cpuSeconds") * 1e6 / json.getInteger("records"), json.getDouble("peakRssMb"), loadBefore,
            json.getDouble("loadAfter"));
        }
      }
    }
    System.out.printf(Locale.ROOT, "all runs: %.0f s; Sagebus's transport: %s%n", (System.nanoTime() - start) / 1e9,
      results.entrySet().stream().filter(e -> e.getKey().startsWith("sagebus/")).flatMap(e -> e.getValue().stream())
        .map(j -> j.getString("transport", "?")).distinct().sorted().collect(Collectors.joining(", ")));
    new Report(results, cases, rounds, quick).print();
    if (!keepLogs) {
      deleteTree(logDir);
    }
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException("missing value after " + args[i - 1]);
    }
    return args[i];
  }

  private static String flinkVersion() {
    String v = org.apache.flink.runtime.util.EnvironmentInformation.getVersion();
    return v == null ? "(unknown version)" : v;
  }

  static int records(Workload w, boolean quick) {
    return quick ? w.quickRecords : w.records;
  }

  private static JsonObject runChild(String engine, Workload w, boolean quick, String delay, String chaining, String transport,
                                     boolean nonBlocking,
                                     Path logDir,
                                     int round)
    throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
      .toString());
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(w.jvmOptions);
    int launchedAt = cmd.size();
    cmd.add("");
    cmd.add("-D" + SagebusCases.DELAY + "=" + delay);
    cmd.add("-D" + SagebusCases.CHAINING + "=" + chaining);
    cmd.add("-D" + SagebusCases.TRANSPORT + "=" + transport);
    cmd.add("-D" + SagebusCases.NON_BLOCKING_PROPERTY + "=" + nonBlocking);
    // Netty loads its epoll library with System.loadLibrary: allowed without the JDK's warning.
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(CaseMain.class.getName());
    cmd.add(engine);
    cmd.add(w.id);
    cmd.add(Integer.toString(records(w, quick)));
    cmd.add(Integer.toString(quick ? 20_000 : 100_000));
    String base = String.format(Locale.ROOT, "r%d-%s-%s", round, w.id, engine);
    Path out = logDir.resolve(base + ".out");
    Path err = logDir.resolve(base + ".err");
    // The launch time is taken as late as possible, just before the JVM starts.
    cmd.set(launchedAt, "-D" + ProcessFigures.LAUNCHED_AT + "=" + System.currentTimeMillis());
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    boolean ended = p.waitFor(30, TimeUnit.MINUTES);
    if (!ended) {
      p.destroyForcibly();
    }
    String stdout = Files.readString(out, StandardCharsets.UTF_8);
    String result = stdout.lines().filter(l -> l.startsWith(CaseMain.PREFIX)).reduce((a, b) -> b).orElse(null);
    if (!ended || p.exitValue() != 0 || result == null) {
      System.out.println("FAILED: " + String.join(" ", cmd) + (ended ? " exited with " + p.exitValue() : " timed out"));
      System.out.println("--- stdout (" + out + ")");
      System.out.println(stdout);
      System.out.println("--- stderr (" + err + ")");
      System.out.println(Files.readString(err, StandardCharsets.UTF_8));
      throw new IllegalStateException(engine + " " + w.id + " failed; its output is above and in " + logDir);
    }
    return new JsonObject(result.substring(CaseMain.PREFIX.length()));
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var files = Files.walk(dir)) {
      for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }

  static double median(List<JsonObject> runs, ToDoubleFunction<JsonObject> f) {
    double[] v = runs.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
