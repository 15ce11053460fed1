package io.sagebus.samples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs README's "Run a cluster" commands as written, from the project folder: the three node
 * lines (ending in {@code &}) as background JVMs, the sample line, then {@code kill} (SIGTERM) of
 * the nodes. Two things are added to each {@code java} command: this JVM's own {@code java}, and
 * {@code -Dsagebus.parent.pid} (a node also ends when this JVM ends). The cluster is the
 * sample's own, {@code sagebus-demo} on ports from 5701.
 */
class ClusterSampleIT {

  private static final long TIMEOUT_SECONDS = 120;

  @TempDir
  Path dir;

  /** {@return the commands of README's first shell block under "## Run a cluster"} */
  static List<String> readmeCommands() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    int section = readme.indexOf("\n## Run a cluster\n");
    assertThat(section).as("README has a section 'Run a cluster'").isPositive();
    int start = readme.indexOf("```shell\n", section) + "```shell\n".length();
    int end = readme.indexOf("```", start);
    return readme.substring(start, end).lines().filter(l -> !l.isBlank()).toList();
  }

  private Process start(String line, String name) throws Exception {
    List<String> words = new ArrayList<>(List.of(line.replaceFirst("\\s*&$", "").split("\\s+")));
    assertThat(words.get(0)).isEqualTo("java");
    words.set(0, ProcessHandle.current().info().command().orElseThrow());
    words.add(1, "-Dsagebus.parent.pid=" + ProcessHandle.current().pid());
    return new ProcessBuilder(words)
      .directory(Path.of("..").toFile())
      .redirectOutput(dir.resolve(name + "-out.txt").toFile())
      .redirectError(dir.resolve(name + "-err.txt").toFile())
      .start();
  }

  @Test
  void theReadmeCommandsStartThreeNodesRunTheSampleOnThemAndStopThem() throws Exception {
    List<String> commands = readmeCommands();
    assertThat(commands).hasSize(5);
    assertThat(commands.get(4)).isEqualTo("kill %1 %2 %3");
    List<Process> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        assertThat(commands.get(i)).endsWith("&").contains("node-" + (i + 1) + ".json");
        nodes.add(start(commands.get(i), "node-" + (i + 1)));
      }
      Process sample = start(commands.get(3), "sample");
      assertThat(sample.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("the sample ended").isTrue();
      List<String> out = Files.readAllLines(dir.resolve("sample-out.txt"));
      assertThat(sample.exitValue()).as("exit code; output %s; errors %s", out,
        Files.readString(dir.resolve("sample-err.txt"))).isZero();
      assertThat(out).containsExactly(
        "nodes: [node-1, node-2, node-3]",
        "profile replicas: {\"node-1\":1,\"node-2\":1}",
        "job: COMPLETED, 10000 records enriched, mean score 31.8");

      // README: node-1 serves the management API on 127.0.0.1:8091.
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
        Process node = nodes.get(i);
        assertThat(node.waitFor(30, TimeUnit.SECONDS)).as("node-%d ended after SIGTERM", i + 1).isTrue();
        assertThat(node.exitValue()).as("node-%d exit code (128 + SIGTERM)", i + 1).isEqualTo(143);
        assertThat(Files.readString(dir.resolve("node-" + (i + 1) + "-out.txt")))
          .contains("sagebus node node-" + (i + 1) + " ready in cluster sagebus-demo (environment demo)");
        // The node's classpath holds one copy of each library (the samples' classes jar has no dependencies).
        assertThat(Files.readString(dir.resolve("node-" + (i + 1) + "-err.txt")))
          .doesNotContain("Classpath misconfiguration");
      }
    } finally {
      for (Process node : nodes) {
        if (node.isAlive()) {
          node.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
      }
    }
  }
}
