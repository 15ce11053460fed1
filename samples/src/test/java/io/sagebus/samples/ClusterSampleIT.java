package io.sagebus.samples;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runs README's "Run a cluster" commands as written, from the project folder: the three node
 * lines ({@code ... > node-N.log 2>&1 &}) as background JVMs whose output goes to their log file,
 * the sample line and the CLI line each to its end, then {@code kill} (SIGTERM) of the nodes. Two
 * things are added to each {@code java} command: this JVM's own {@code java}, and
 * {@code -Dsagebus.parent.pid} (a node also ends when this JVM ends). The logs are written to
 * {@code samples/target/cluster-sample-it/} instead of the project folder, are kept after the run,
 * and are printed when the test fails. The cluster is the sample's own, {@code sagebus-demo} on
 * ports from 5701, with node-1's API on 8091.
 * <p>
 * Nothing here waits a fixed time: the sample waits for the nodes itself (up to
 * {@link ClusterSample#WAIT_FOR_NODES}), and this test waits for the sample's end, failing at
 * once if a node dies. The one limit, {@link #LIMIT}, is for a run that hangs: the sample's own
 * wait for the nodes plus two minutes for its job, the CLI's job and the JVMs' starts on a loaded
 * 2-core machine (nodes took 97 s to be ready there).
 * <p>
 * The README's ports and cluster name are fixed, so two builds on one machine would join each
 * other's cluster and fight for port 8091: the test first takes a machine-wide file lock
 * ({@code sagebus-readme-cluster.lock} in the temporary folder) and waits for another build's run
 * to end, up to {@link #LOCK_LIMIT}.
 */
class ClusterSampleIT {

  private static final Duration LIMIT = ClusterSample.WAIT_FOR_NODES.plusMinutes(2);
  private static final Duration LOCK_LIMIT = LIMIT.multipliedBy(2);
  private static final Pattern REDIRECT = Pattern.compile("\\s*>\\s*(\\S+)\\s+2>&1\\s*&?\\s*$");
  private static final Pattern WAITING =
    Pattern.compile("still joining \\(\\d+ s\\)\\.\\.\\.|waiting for 3 nodes \\([0-2] seen\\)\\.\\.\\.");

  private final Path logs = Path.of("target", "cluster-sample-it").toAbsolutePath();
  /** Each process's log, by name, in the order they started. */
  private final Map<String, Path> logFiles = new LinkedHashMap<>();

  /** {@return the commands of README's first shell block under "## Run a cluster"} */
  static List<String> readmeCommands() throws Exception {
    String section = ReadmeTranscript.section("Run a cluster");
    int start = section.indexOf("```shell\n") + "```shell\n".length();
    int end = section.indexOf("```", start);
    return section.substring(start, end).lines().filter(l -> !l.isBlank()).toList();
  }

  /** Starts a README command line, its output and errors into one log, as {@code > log 2>&1} does. */
  private Process start(String line, String name) throws Exception {
    Matcher redirect = REDIRECT.matcher(line);
    String log = name + ".log";
    String command = line.replaceFirst("\\s*&$", "");
    boolean redirected = redirect.find();
    if (redirected) {
      log = Path.of(redirect.group(1)).getFileName().toString();
      command = line.substring(0, redirect.start());
    }
    List<String> words = new ArrayList<>(ReadmeTranscript.words(command));
    assertThat(words.get(0)).isEqualTo("java");
    words.set(0, ProcessHandle.current().info().command().orElseThrow());
    words.add(1, "-Dsagebus.parent.pid=" + ProcessHandle.current().pid());
    Path file = logs.resolve(log);
    logFiles.put(name, file);
    ProcessBuilder builder = new ProcessBuilder(words)
      .directory(Path.of("..").toFile())
      .redirectOutput(file.toFile());
    if (redirected) {
      builder.redirectErrorStream(true);
    } else {
      // A terminal shows both; the test compares the output alone.
      Path err = logs.resolve(name + "-err.log");
      logFiles.put(name + " (errors)", err);
      builder.redirectError(err.toFile());
    }
    builder.environment().put("HZ_PHONE_HOME_ENABLED", "false");
    return builder.start();
  }

  private String log(String name) throws Exception {
    return Files.readString(logFiles.get(name));
  }

  @Test
  void theReadmeCommandsStartThreeNodesRunTheSampleAndAPipelineOnThemAndStopThem() throws Exception {
    Path lockFile = Path.of(System.getProperty("java.io.tmpdir"), "sagebus-readme-cluster.lock");
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      AtomicReference<FileLock> lock = new AtomicReference<>(channel.tryLock());
      if (lock.get() == null) {
        System.out.println("ClusterSampleIT: another build runs the README cluster; waiting for " + lockFile);
        await("the README cluster's lock " + lockFile).atMost(LOCK_LIMIT).pollInterval(Duration.ofMillis(500))
          .until(() -> {
            lock.set(channel.tryLock());
            return lock.get() != null;
          });
      }
      try {
        runTheReadmeCluster();
      } finally {
        lock.get().release();
      }
    }
  }

  private void runTheReadmeCluster() throws Exception {
    Files.createDirectories(logs);
    List<String> commands = readmeCommands();
    assertThat(commands).hasSize(6);
    assertThat(commands.get(5)).isEqualTo("kill %1 %2 %3");
    List<Process> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        String node = "node-" + (i + 1);
        assertThat(commands.get(i)).contains(node + ".json").endsWith("> " + node + ".log 2>&1 &");
        nodes.add(start(commands.get(i), node));
      }
      Process sample = start(commands.get(3), "sample");
      awaitEnd(sample, "the sample", nodes);
      List<String> out = Files.readAllLines(logFiles.get("sample"));
      assertThat(sample.exitValue()).as("the sample's exit code").isZero();
      assertThat(out).as("the sample's output").first().isEqualTo("joining cluster sagebus-demo on 127.0.0.1...");
      List<String> rest = out.subList(1, out.size()).stream().filter(l -> !WAITING.matcher(l).matches()).toList();
      assertThat(rest).containsExactly(
        "nodes: [node-1, node-2, node-3]",
        "profile replicas: {\"node-1\":1,\"node-2\":1}",
        "job: COMPLETED, 10000 records enriched, mean score 31.8");

      // README: node-1 serves the management API on 127.0.0.1:8091 and runs the pipeline its setup registered.
      assertThat(commands.get(4)).contains("sagebus-cli.jar run greetings --url http://127.0.0.1:8091");
      Process cli = start(commands.get(4), "run-greetings");
      awaitEnd(cli, "sagebus run greetings", nodes);
      assertThat(cli.exitValue()).as("sagebus run's exit code").isZero();
      assertThat(log("run-greetings"))
        .containsPattern("Started pipeline 'greetings' as job demo-\\w+-job-1")
        .containsPattern("Job demo-\\w+-job-1 COMPLETED: 1000 records in .*, 1000 reached the sinks, 0 failed");

      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8091/health/ready"))
        .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      HttpResponse<String> nodesJson = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8091/nodes"))
        .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(nodesJson.body()).contains("node-1", "node-2", "node-3");
      HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8091/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.body()).contains("sagebus_service_requests_total{env=\"demo\"");

      // kill %1 %2 %3: SIGTERM, a planned leave; each node ends by itself.
      for (Process node : nodes) {
        node.destroy();
      }
      for (int i = 0; i < nodes.size(); i++) {
        String node = "node-" + (i + 1);
        assertThat(nodes.get(i).waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)).as("%s ended after SIGTERM", node)
          .isTrue();
        assertThat(nodes.get(i).exitValue()).as("%s exit code (128 + SIGTERM)", node).isEqualTo(143);
        String log = log(node);
        assertThat(log).contains("sagebus node " + node + " ready in cluster sagebus-demo (environment demo)");
        // The node's classpath holds one copy of each library (the samples' classes jar has no dependencies).
        assertThat(log).doesNotContain("Classpath misconfiguration");
        // The argument file carries the JVM flags Hazelcast and Netty need: no JVM or Hazelcast warning about them.
        assertThat(log).doesNotContain("sun.misc.Unsafe").doesNotContain("--add-opens")
          .doesNotContain("occurs multiple times on the classpath");
      }
    } catch (Throwable failure) {
      printLogs();
      throw failure;
    } finally {
      for (Process node : nodes) {
        if (node.isAlive()) {
          node.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
      }
    }
  }

  /** Waits for a process's end, failing at once if a node dies before. */
  private static void awaitEnd(Process p, String what, List<Process> nodes) {
    await(what + " to end").atMost(LIMIT).pollInterval(Duration.ofMillis(200))
      .failFast("a node died before " + what + " ended", () -> nodes.stream().anyMatch(n -> !n.isAlive()))
      .until(() -> !p.isAlive());
  }

  private void printLogs() {
    for (Map.Entry<String, Path> e : logFiles.entrySet()) {
      System.err.println("----- " + e.getKey() + " (" + e.getValue() + ") -----");
      try {
        System.err.println(Files.readString(e.getValue()));
      } catch (Exception ex) {
        System.err.println("(cannot read: " + ex + ")");
      }
    }
  }
}
