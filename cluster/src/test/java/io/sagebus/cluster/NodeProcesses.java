package io.sagebus.cluster;

import io.sagebus.testing.EchoService;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Node JVMs started from the built node jar, the documented way: {@code java -cp
 * sagebus-node.jar:sagebus-test-fixtures.jar io.sagebus.cluster.SagebusNode -cluster ...}, with
 * this JVM's own {@code java}, a small heap, and {@code -Dsagebus.parent.pid} so that they die
 * with this JVM even if {@link #close()} never runs.
 */
final class NodeProcesses implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(NodeProcesses.class);
  /** A hang guard, not a speed limit: under a load average of 30 on 2 cores a node took over 40 s to be ready. */
  static final Duration READY_TIMEOUT = Duration.ofSeconds(150);
  private static final long EXIT_TIMEOUT_SECONDS = 60;

  private final Path dir;
  private final Map<String, Process> processes = new LinkedHashMap<>();

  NodeProcesses(Path dir) {
    this.dir = dir;
  }

  /** A test's body, given the node processes it starts. */
  interface NodesBody {
    void run(NodeProcesses nodes) throws Exception;
  }

  /** Runs a body with node processes in {@code dir}: their output is logged if it fails, and they are stopped after. */
  static void runLoggingOnFailure(Path dir, NodesBody body) throws Exception {
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      try {
        body.run(nodes);
      } catch (Throwable t) {
        nodes.dump();
        throw t;
      }
    }
  }

  /** {@return the command line of a node JVM} */
  static List<String> command(String... args) throws Exception {
    return command(List.of(), args);
  }

  /** {@return the command line of a node JVM with more classpath entries after the jar and the fixtures} */
  static List<String> command(List<Path> extraClasspath, String... args) throws Exception {
    Path jar = Path.of(System.getProperty("sagebus.node.jar", "target/sagebus-node.jar")).toAbsolutePath();
    assertThat(jar).as("the node jar, built by mvn package").isRegularFile();
    // The fixtures (EchoService) come from their own jar, as a user's service classes would.
    Path fixtures = Path.of(EchoService.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    String java = ProcessHandle.current().info().command().orElseThrow();
    List<String> command = new ArrayList<>(List.of(java, "-Xmx128m", "-XX:+UseSerialGC",
      "-Dsagebus.parent.pid=" + ProcessHandle.current().pid()));
    String flags = System.getProperty("sagebus.jvm.flags", "").trim();
    if (!flags.isEmpty()) {
      command.addAll(Arrays.asList(flags.split("\\s+")));
    }
    StringBuilder classpath = new StringBuilder(jar + File.pathSeparator + fixtures);
    extraClasspath.forEach(p -> classpath.append(File.pathSeparator).append(p.toAbsolutePath()));
    command.addAll(List.of("-cp", classpath.toString(), SagebusNode.class.getName()));
    command.addAll(List.of(args));
    return command;
  }

  /** Starts a process with its output in {@code <name>-out.txt} and {@code <name>-err.txt}. */
  Process start(String name, List<String> command) throws Exception {
    return start(name, command, Map.of());
  }

  /** Starts a process with more environment variables, its output in {@code <name>-out.txt} and {@code <name>-err.txt}. */
  Process start(String name, List<String> command, Map<String, String> environment) throws Exception {
    LOG.info("starting {}: {}", name, String.join(" ", command));
    ProcessBuilder builder = new ProcessBuilder(command)
      .redirectOutput(out(name).toFile())
      .redirectError(err(name).toFile());
    builder.environment().put("HZ_PHONE_HOME_ENABLED", "false");
    builder.environment().putAll(environment);
    Process p = builder.start();
    processes.put(name, p);
    return p;
  }

  /** Starts a node with a {@code -conf} file holding {@code conf}; does not wait for it. */
  Process startNode(String nodeId, JsonObject conf) throws Exception {
    return startNode(nodeId, conf, List.of());
  }

  /** Starts a node with more classpath entries; does not wait for it. */
  Process startNode(String nodeId, JsonObject conf, List<Path> extraClasspath) throws Exception {
    return startNode(nodeId, conf, extraClasspath, Map.of(), List.of(), "127.0.0.1");
  }

  /** Starts a node with more classpath entries and environment variables; does not wait for it. */
  Process startNode(String nodeId, JsonObject conf, List<Path> extraClasspath, Map<String, String> environment)
    throws Exception {
    return startNode(nodeId, conf, extraClasspath, environment, List.of(), "127.0.0.1");
  }

  /**
   * Starts a node with more classpath entries, its command run through a prefix (such as {@code ip netns exec ns})
   * and its event bus on a host; does not wait for it.
   */
  Process startNode(String nodeId, JsonObject conf, List<Path> extraClasspath, List<String> prefix, String host)
    throws Exception {
    return startNode(nodeId, conf, extraClasspath, Map.of(), prefix, host);
  }

  private Process startNode(String nodeId, JsonObject conf, List<Path> extraClasspath, Map<String, String> environment,
                            List<String> prefix, String host) throws Exception {
    Path confFile = dir.resolve(nodeId + ".json");
    Files.writeString(confFile, conf.encodePrettily());
    List<String> command = new ArrayList<>(prefix);
    command.addAll(command(extraClasspath, "-cluster", "-cluster-host", host, "-conf", confFile.toString()));
    return start(nodeId, command, environment);
  }

  /** Waits for a node's ready line, failing fast if it dies first. */
  void awaitReady(String nodeId, String clusterName, String environment) {
    awaitReady(nodeId, clusterName, environment, READY_TIMEOUT);
  }

  /** Waits for a node's ready line up to a timeout, failing fast if it dies first. */
  void awaitReady(String nodeId, String clusterName, String environment, Duration timeout) {
    Process p = processes.get(nodeId);
    String ready = "sagebus node " + nodeId + " ready in cluster " + clusterName + " (environment " + environment + ")";
    await("the ready line of node " + nodeId).atMost(timeout).pollInterval(Duration.ofMillis(50))
      .failFast("node " + nodeId + " died before it was ready", () -> !p.isAlive())
      .until(() -> Files.readString(out(nodeId)).contains(ready));
  }

  Path out(String name) {
    return dir.resolve(name + "-out.txt");
  }

  Path err(String name) {
    return dir.resolve(name + "-err.txt");
  }

  /** Logs what every process printed, for a test that failed. */
  void dump() {
    for (String name : processes.keySet()) {
      for (Path file : List.of(out(name), err(name))) {
        try {
          LOG.error("--- {} ---\n{}", file.getFileName(), Files.exists(file) ? Files.readString(file) : "(none)");
        } catch (java.io.IOException e) {
          LOG.error("cannot read {}", file, e);
        }
      }
    }
  }

  /** A test's body, run by {@link #dumpOnFailure(Body)}. */
  interface Body {
    void run() throws Exception;
  }

  /** Runs a test's body; when it fails, logs what every process printed first. */
  void dumpOnFailure(Body body) throws Exception {
    try {
      body.run();
    } catch (Exception | Error e) {
      dump();
      throw e;
    }
  }

  Process process(String name) {
    return processes.get(name);
  }

  /** Asks a process to stop (SIGTERM), killing it if it has not ended in 20 s. */
  static void stop(Process p) throws InterruptedException {
    if (p == null || !p.isAlive()) {
      return;
    }
    p.destroy();
    if (!p.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      LOG.warn("process {} ignored SIGTERM for {} s: killing it", p.pid(), EXIT_TIMEOUT_SECONDS);
      p.destroyForcibly().waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
  }

  /** Stops every process still running, all at once. */
  @Override
  public void close() throws InterruptedException {
    for (Process p : processes.values()) {
      if (p.isAlive()) {
        p.destroy();
      }
    }
    for (Process p : processes.values()) {
      stop(p);
    }
  }
}
