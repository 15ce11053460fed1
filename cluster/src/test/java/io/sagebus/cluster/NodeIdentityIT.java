package io.sagebus.cluster;

import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.sagebus.cluster.ClusterTesting.millisSince;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two node JVMs from the built jar, then a third started with a copy of node-1's configuration:
 * it refuses to start within seconds, naming the live node-1, and node-1 keeps its record, its
 * replica and its place in placement.
 */
class NodeIdentityIT {

  private static final Logger LOG = LoggerFactory.getLogger(NodeIdentityIT.class);
  /** This class's own port range: 15881 to 15900. */
  private static final int FIRST_PORT = 15881;
  private static final String ENV = "identity";
  /** A few seconds on an idle machine; this bound leaves room for a loaded one. */
  private static final Duration REFUSAL_TIMEOUT = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  private static JsonObject conf(ClusterOptions options, String nodeId) {
    return new JsonObject()
      .put("cluster", options.toJson())
      .put("environment", ENV)
      .put("nodeId", nodeId)
      .put("services", new JsonObject()
        .put("echo", new JsonObject().put("class", EchoService.class.getName()))
        .put("echo2", new JsonObject().put("class", EchoService.class.getName())));
  }

  @Test
  void aSecondNodeWithALiveNodesIdRefusesToStartAndLeavesTheLiveOneAlone() throws Exception {
    ClusterOptions options = ClusterTesting.options(NodeIdentityIT.class, FIRST_PORT);
    long start = System.nanoTime();
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      try {
        run(options, nodes);
      } catch (Throwable t) {
        nodes.dump();
        throw t;
      }
    } finally {
      LOG.info("node identity test done after {} ms", millisSince(start));
    }
  }

  private void run(ClusterOptions options, NodeProcesses nodes) throws Exception {
    for (String node : List.of("node-1", "node-2")) {
      nodes.startNode(node, conf(options, node));
    }
    nodes.awaitReady("node-1", options.getClusterName(), ENV);
    nodes.awaitReady("node-2", options.getClusterName(), ENV);
    long livePid = nodes.process("node-1").pid();

    ClusterEnvironment env = ClusterEnvironment.create(new ClusterOptions(options).setLiteMember(true), ENV).await();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> env.nodes().await().size() == 2);
      env.registerService("echo", EchoService.class, new ServiceOptions().setInstances(1));
      env.deploy("echo").await();
      assertThat(placedOn(env, "echo")).isEqualTo(Map.of("node-1", 1));
      JsonObject before = nodeRecord(env, "node-1");

      // A copy of node-1's configuration, as an operator who copies node-1.json would start it.
      Files.copy(dir.resolve("node-1.json"), dir.resolve("copy-of-node-1.json"));
      long started = System.nanoTime();
      Process copy = nodes.start("copy-of-node-1", NodeProcesses.command("-cluster", "-cluster-host", "127.0.0.1",
        "-conf", dir.resolve("copy-of-node-1.json").toString()));
      assertThat(copy.waitFor(REFUSAL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("the copy ended").isTrue();
      long refusedMs = millisSince(started);
      LOG.info("the copy of node-1 exited with {} after {} ms", copy.exitValue(), refusedMs);

      String err = Files.readString(nodes.err("copy-of-node-1"));
      assertThat(copy.exitValue()).as("exit code").isNotZero();
      assertThat(err).contains("sagebus node: the node agent did not start: node id 'node-1' is already live in "
        + "cluster '" + options.getClusterName() + "' (environment " + ENV + "): node node-1 on 127.0.0.1, pid "
        + livePid + ", member " + before.getString("member"));
      assertThat(err.lines().filter(l -> l.startsWith("sagebus node:"))).as("one line says why").hasSize(1);
      assertThat(Files.readString(nodes.out("copy-of-node-1"))).doesNotContain("ready in cluster");

      // The copy's member is gone from the cluster: only then has the oldest member reacted to its leave.
      await().atMost(Duration.ofSeconds(60))
        .until(() -> SagebusCluster.hazelcast(env.vertx()).getCluster().getMembers().size() == 3);
      assertThat(nodes.process("node-1").isAlive()).isTrue();
      assertThat(env.nodes().await().stream().map(o -> ((JsonObject) o).getString("node")))
        .containsExactly("node-1", "node-2");
      assertThat(nodeRecord(env, "node-1")).as("node-1's record, untouched").isEqualTo(before);
      assertThat(placedOn(env, "echo")).isEqualTo(Map.of("node-1", 1));
      assertThat(env.services().<String>callAsync("echo", "still here").await()).isEqualTo("still here");

      // node-1 is still offered to placement: a new service of two replicas goes to both nodes.
      env.registerService("echo2", EchoService.class, new ServiceOptions().setInstances(2));
      env.deploy("echo2").await();
      assertThat(placedOn(env, "echo2")).isEqualTo(Map.of("node-1", 1, "node-2", 1));
      assertThat(Files.readString(nodes.out("node-1"))).contains("deployed 1 replica(s) of 'echo2'")
        .doesNotContain("without having left");
    } finally {
      env.close().await();
    }
  }

  private static JsonObject nodeRecord(ClusterEnvironment env, String node) {
    return env.nodes().await().stream().map(JsonObject.class::cast).filter(n -> node.equals(n.getString("node")))
      .findFirst().orElseThrow();
  }

  private static Map<String, Object> placedOn(ClusterEnvironment env, String service) {
    return env.placements().await().stream().map(JsonObject.class::cast)
      .filter(p -> service.equals(p.getString("service"))).findFirst().orElseThrow().getJsonObject("nodes").getMap();
  }
}
