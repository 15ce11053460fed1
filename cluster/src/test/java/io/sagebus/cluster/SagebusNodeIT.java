package io.sagebus.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceOptions;
import io.sagebus.cluster.impl.Coordinator;
import io.sagebus.cluster.impl.PlacementRecord;
import io.sagebus.cluster.impl.ServiceRecord;
import io.sagebus.testing.EchoService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.sagebus.cluster.ClusterTesting.awaitVisible;
import static io.sagebus.cluster.ClusterTesting.millisSince;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runs the node jar the documented way, with a service class from another jar:
 * {@code java -cp sagebus-node.jar:sagebus-test-fixtures.jar io.sagebus.cluster.SagebusNode -cluster ...},
 * in a child JVM started with this JVM's own {@code java}, and talks to its agent from a clustered
 * Vertx in this JVM.
 */
class SagebusNodeIT {

  private static final Logger LOG = LoggerFactory.getLogger(SagebusNodeIT.class);
  /** This class's own port range: 15781 to 15800. */
  private static final int FIRST_PORT = 15781;
  private static final long READY_TIMEOUT_MS = NodeProcesses.READY_TIMEOUT.toMillis();
  private static final long EXIT_TIMEOUT_SECONDS = 60;
  private static final String ENV = "it";

  @TempDir
  Path dir;

  private List<String> command(String... args) throws Exception {
    return NodeProcesses.command(args);
  }

  private Process start(List<String> command, File out, File err) throws Exception {
    LOG.info("starting {}", String.join(" ", command));
    ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out).redirectError(err);
    builder.environment().put("HZ_PHONE_HOME_ENABLED", "false");
    return builder.start();
  }

  private static void stop(Process p) throws InterruptedException {
    long start = System.nanoTime();
    NodeProcesses.stop(p);
    LOG.info("node process stopped in {} ms", millisSince(start));
  }

  @Test
  void aNodeStartedFromTheJarServesItsCatalogueToAnotherJvm() throws Exception {
    ClusterOptions options = ClusterTesting.options(SagebusNodeIT.class, FIRST_PORT);
    // The conf's host is overridden by -cluster-host: Hazelcast must end up on 127.0.0.1.
    JsonObject clusterJson = options.toJson().put("host", "127.0.0.2");
    JsonObject conf = new JsonObject()
      .put("cluster", clusterJson)
      .put("environment", ENV)
      .put("nodeId", "jar-node")
      .put("services", new JsonObject().put("echo", new JsonObject().put("class", EchoService.class.getName())));
    Path confFile = dir.resolve("node.json");
    Files.writeString(confFile, conf.encodePrettily());
    File out = dir.resolve("node-out.txt").toFile();
    File err = dir.resolve("node-err.txt").toFile();

    long start = System.nanoTime();
    Process node = null;
    Vertx vertx = null;
    try {
      node = start(command("-cluster", "-cluster-host", "127.0.0.1", "-conf", confFile.toString()), out, err);
      String ready = "sagebus node jar-node ready in cluster " + options.getClusterName() + " (environment " + ENV + ")";
      Process started = node;
      org.awaitility.Awaitility.await("the node's ready line")
        .atMost(java.time.Duration.ofMillis(READY_TIMEOUT_MS))
        .pollInterval(java.time.Duration.ofMillis(50))
        .failFast("the node died before it was ready", () -> !started.isAlive())
        .until(() -> Files.readString(out.toPath()).contains(ready));
      LOG.info("node jar ready after {} ms", millisSince(start));

      vertx = ClusterTesting.start("test-jvm", options);
      assertThat(ClusterTesting.members(vertx)).isEqualTo(2);
      for (Member m : SagebusCluster.hazelcast(vertx).getCluster().getMembers()) {
        assertThat(m.getAddress().getHost()).as("every member on -cluster-host").isEqualTo("127.0.0.1");
      }
      String agent = NodeAgentVerticle.address(ENV, "jar-node");
      awaitVisible(vertx, agent);

      JsonObject list = vertx.eventBus().<JsonObject>request(agent, NodeAgentVerticle.listRequest()).await().body();
      assertThat(list).isEqualTo(new JsonObject().put("node", "jar-node")
        .put("services", new JsonObject().put("echo", 0)).put("versions", new JsonObject()));

      // The node runs replicas only for a registration that exists, with a placement record that holds them (else
      // its reconciler drains them): this JVM writes both, as the coordinator of a registering JVM would.
      HazelcastInstance hazelcast = SagebusCluster.hazelcast(vertx);
      String memberId = hazelcast.getCluster().getLocalMember().getUuid().toString();
      IMap<String, String> services = hazelcast.getMap(Coordinator.mapName(ENV, "services"));
      services.set("echo", new ServiceRecord("echo", EchoService.class.getName(), false, memberId,
        new ServiceOptions()).toJson().encode());
      hazelcast.<String, String>getMap(Coordinator.mapName(ENV, "placements")).set("echo",
        new PlacementRecord("echo", EchoService.class.getName(), 2, Map.of("jar-node", 2)).toJson().encode());
      JsonObject deployed = vertx.eventBus().<JsonObject>request(agent, NodeAgentVerticle.deployRequest("echo", 2))
        .await().body();
      assertThat(deployed).isEqualTo(new JsonObject().put("service", "echo").put("deployed", 2).put("running", 2));
      awaitVisible(vertx, "sagebus." + ENV + ".service.echo");

      ServiceClient client = ServiceClient.create(vertx, ENV);
      assertThat(client.<String>callAsync("echo", "across JVMs").await()).isEqualTo("across JVMs");
      assertThat(client.<Integer>callAsync("echo", io.sagebus.CallOptions.method("add"), 20, 22).await())
        .isEqualTo(42);
      assertThat(vertx.eventBus().<JsonObject>request(agent, NodeAgentVerticle.listRequest()).await().body()
        .getJsonObject("services").getInteger("echo")).isEqualTo(2);

      // The registration is gone (as when its JVM leaves without undeploying): the node drains what ran for it.
      services.delete("echo");
      Vertx member = vertx;
      await().atMost(Duration.ofSeconds(30)).until(() -> member.eventBus().<JsonObject>request(agent,
        NodeAgentVerticle.listRequest()).await().body().getJsonObject("services").getInteger("echo") == 0);
      // The log line may reach the file a moment after the drain.
      await().atMost(Duration.ofSeconds(30))
        .until(() -> (Files.readString(out.toPath()) + Files.readString(err.toPath())).contains("reconciled 'echo'"));
      LOG.info("node jar test done after {} ms", millisSince(start));
    } finally {
      try {
        if (vertx != null) {
          ClusterTesting.close(vertx);
        }
      } finally {
        stop(node);
      }
    }
    assertThat(Files.readString(err.toPath())).doesNotContain("Exception");
  }

  @Test
  void haIsRefusedWithAnExplanation() throws Exception {
    File out = dir.resolve("ha-out.txt").toFile();
    File err = dir.resolve("ha-err.txt").toFile();
    Process p = null;
    try {
      p = start(command("-cluster", "-ha", "-conf", "{\"cluster\": {\"clusterName\": \"never-started\"}}"), out, err);
      assertThat(p.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("ended").isTrue();
      String stderr = Files.readString(err.toPath(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as("exit code; stderr: %s", stderr).isEqualTo(2);
      assertThat(stderr).contains("-ha is not supported").contains("places service replicas itself");
      assertThat(Files.readString(out.toPath())).doesNotContain("ready");
    } finally {
      stop(p);
    }
  }

  /** What a node JVM printed when it refused to start, and how long it took. */
  private record Refusal(int exitCode, List<String> stderr, String stdout, long millis) {
  }

  private Refusal refused(String name, String... args) throws Exception {
    File out = dir.resolve(name + "-out.txt").toFile();
    File err = dir.resolve(name + "-err.txt").toFile();
    long start = System.nanoTime();
    Process p = start(command(args), out, err);
    try {
      // Generous: a JVM that starts and reads a file, on a loaded 2-core machine; the node never joins a cluster.
      assertThat(p.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("%s ended; stdout %s; stderr %s", name,
        Files.readString(out.toPath()), Files.readString(err.toPath())).isTrue();
      return new Refusal(p.exitValue(), Files.readAllLines(err.toPath(), StandardCharsets.UTF_8),
        Files.readString(out.toPath()), millisSince(start));
    } finally {
      stop(p);
    }
  }

  private static void assertOneLine(Refusal r, String expected) {
    assertThat(r.exitCode()).as("exit code; stderr: %s", r.stderr()).isEqualTo(2);
    assertThat(r.stderr()).as("stderr").hasSize(1);
    assertThat(r.stderr().getFirst()).startsWith("sagebus node: ").contains(expected);
    assertThat(r.stdout()).doesNotContain("ready");
  }

  @Test
  void configurationMistakesEndTheNodeWithOneLineSayingWhatAndWhere() throws Exception {
    Path missing = dir.resolve("node-9.json");
    assertOneLine(refused("missing", "-cluster", "-conf", missing.toString()),
      "configuration file " + missing + " not found");

    Path syntax = dir.resolve("syntax.json");
    Files.writeString(syntax, "{\n  \"cluster\": {\"clusterName\": \"never-started\"}\n  \"nodeId\": \"n1\"\n}\n");
    assertOneLine(refused("syntax", "-cluster", "-conf", syntax.toString()),
      syntax + " is not valid JSON: line 3, column 3: Unexpected character");

    Path typo = dir.resolve("typo.json");
    Files.writeString(typo, "{\"cluster\": {\"clusterName\": \"never-started\"}, \"servcies\": {}}");
    assertOneLine(refused("typo", "-cluster", "-conf", typo.toString()),
      typo + ": unknown key \"servcies\": did you mean \"services\"?");

    assertOneLine(refused("none", "-cluster"), "no configuration: give one with -conf FILE");

    assertOneLine(refused("setup", "-cluster", "-conf",
        "{\"cluster\": {\"clusterName\": \"never-started\"}, \"setup\": [\"com.example.NoSuchSetup\"]}"),
      "invalid configuration: setup class com.example.NoSuchSetup is not on the node's classpath");
  }

  @Test
  void aManagementPortInUseIsNamedAndRefusedAtOnce() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
      taken.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
      int port = taken.getLocalPort();
      JsonObject conf = new JsonObject()
        .put("cluster", ClusterTesting.options(SagebusNodeIT.class, FIRST_PORT).toJson())
        .put("environment", ENV)
        .put("management", new JsonObject().put("port", port));
      Path confFile = dir.resolve("taken.json");
      Files.writeString(confFile, conf.encodePrettily());
      Refusal r = refused("taken", "-cluster", "-cluster-host", "127.0.0.1", "-conf", confFile.toString());
      assertOneLine(r, "the management API cannot listen on 127.0.0.1:" + port);
      LOG.info("a taken management port was refused after {} ms", r.millis());
      // Before the check, the node joined the cluster first and failed ~30 s later on a loaded machine.
      assertThat(r.stderr().getFirst()).doesNotContain("Hazelcast");
    }
  }
}
