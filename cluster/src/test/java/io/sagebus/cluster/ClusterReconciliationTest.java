package io.sagebus.cluster;

import com.hazelcast.map.IMap;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceOptions;
import io.sagebus.cluster.impl.Coordinator;
import io.sagebus.testing.EchoService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import static io.sagebus.cluster.ClusterTesting.ENV;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reconciliation without a real partition, in one JVM: two nodes and a submitting lite member, and the cluster's
 * records or replicas changed behind the coordinators' backs the way a partition and Hazelcast's merge change them
 * (a replica the records do not hold, a node record gone, a registration left naming a member id that is gone, its
 * placement and replicas drained by the others, this JVM's event-bus address gone from Vert.x's map). Each time,
 * within seconds, the records and what the agents run agree again. {@code ClusterHealIT} does the same with real
 * partitions and frozen JVMs.
 */
class ClusterReconciliationTest {

  /** This class's own port range: 16301 to 16320. */
  private static final int FIRST_PORT = 16301;
  private static final String[] NODES = {"A", "B"};
  /** A reconciliation pass runs every 2 s; generous for a loaded machine. */
  private static final Duration AGREE = Duration.ofSeconds(30);

  private static Vertx submitter;
  private static final Map<String, Vertx> nodes = new LinkedHashMap<>();
  private ClusterEnvironment env;

  @BeforeAll
  static void startCluster() {
    ClusterOptions options = ClusterTesting.options(ClusterReconciliationTest.class, FIRST_PORT);
    ServiceCatalog catalog = ServiceCatalog.fromJson(new JsonObject().put("services", new JsonObject()
      .put("echo", new JsonObject().put("class", EchoService.class.getName()))));
    for (String node : NODES) {
      Vertx vertx = ClusterTesting.start(node, options);
      nodes.put(node, vertx);
      vertx.deployVerticle(NodeAgentVerticle.clustered(ENV, node, catalog)).await();
    }
    submitter = ClusterTesting.start("submitter", new ClusterOptions(options).setLiteMember(true));
  }

  @AfterAll
  static void closeCluster() {
    ClusterTesting.close(submitter);
    for (int i = NODES.length - 1; i >= 0; i--) {
      ClusterTesting.close(nodes.get(NODES[i]));
    }
  }

  @AfterEach
  void closeEnvironment() {
    if (env != null) {
      env.close().await();
    }
    // Whatever a test did, nothing runs for a registration that is gone.
    await().atMost(AGREE).until(() -> running().isEmpty());
  }

  private ClusterEnvironment environment(int instances) {
    env = ClusterEnvironment.create(submitter, ENV, null).await();
    env.registerService("echo", EchoService.class, new ServiceOptions().setInstances(instances).setRetryable(true)
      .setRetryPolicy(new RetryPolicy().setMaxAttempts(50).setAttemptTimeout(Duration.ofMillis(500))));
    env.start().await();
    return env;
  }

  /** {@return the replicas of echo the agents run, by node (nodes with none left out)} */
  private static Map<String, Integer> running() {
    Map<String, Integer> running = new TreeMap<>();
    for (String node : NODES) {
      int n = submitter.eventBus().<JsonObject>request(NodeAgentVerticle.address(ENV, node),
        NodeAgentVerticle.listRequest()).await().body().getJsonObject("services").getInteger("echo", 0);
      if (n > 0) {
        running.put(node, n);
      }
    }
    return running;
  }

  /** {@return echo's placement record, by node, or {@code null} when there is none} */
  private Map<String, Integer> placed() {
    for (Object o : env.placements().await()) {
      JsonObject p = (JsonObject) o;
      if ("echo".equals(p.getString("service"))) {
        Map<String, Integer> out = new TreeMap<>();
        p.getJsonObject("nodes").forEach(e -> out.put(e.getKey(), ((Number) e.getValue()).intValue()));
        return out;
      }
    }
    return null;
  }

  private static IMap<String, String> map(String kind) {
    return SagebusCluster.hazelcast(submitter).getMap(Coordinator.mapName(ENV, kind));
  }

  private static String member(Vertx vertx) {
    return SagebusCluster.hazelcast(vertx).getCluster().getLocalMember().getUuid().toString();
  }

  @Test
  void aReplicaTheRecordsDoNotHoldIsDrainedAndTheRecordIsKept() {
    environment(1);
    Map<String, Integer> before = placed();
    String other = before.containsKey("A") ? "B" : "A";
    // What a node back from a partition may run: a replica the rest of the cluster placed elsewhere meanwhile.
    submitter.eventBus().request(NodeAgentVerticle.address(ENV, other), NodeAgentVerticle.deployRequest("echo", 1))
      .await();
    assertThat(running()).containsEntry(other, 1);

    await().atMost(AGREE).until(() -> running().equals(before));
    assertThat(placed()).isEqualTo(before);
    assertThat(env.services().<Integer>callAsync("echo", 7).await()).isEqualTo(7);
  }

  @Test
  void aNodeWhoseRecordWasLostIsListedAgain() {
    environment(1);
    map("nodes").delete("A");
    await().atMost(AGREE).until(() -> env.nodes().await().stream()
      .map(o -> ((JsonObject) o).getString("node")).toList().equals(java.util.List.of("A", "B")));
    JsonObject a = (JsonObject) env.nodes().await().getValue(0);
    assertThat(a.getString("member")).isEqualTo(member(nodes.get("A")));
  }

  @Test
  void anEventBusAddressTheClusterLostIsPublishedAgainSoThatNodesCanAnswer() {
    environment(1);
    // What a member that sees this one leave late does after a merge: Vert.x's node information of it removed.
    String vertxNode = ((io.vertx.core.internal.VertxInternal) submitter).clusterManager().getNodeId();
    IMap<String, Object> nodeInfo = SagebusCluster.hazelcast(submitter).getMap("__vertx.nodeInfo");
    assertThat(nodeInfo.containsKey(vertxNode)).isTrue();
    nodeInfo.delete(vertxNode);

    await().atMost(AGREE).until(() -> nodeInfo.containsKey(vertxNode));
    assertThat(env.services().<Integer>callAsync("echo", 5).await()).isEqualTo(5);
  }

  @Test
  void aReplicaTheRecordCountsButNoAgentRunsIsPlacedAgain() {
    environment(2);
    String node = placed().keySet().iterator().next();
    // Undeployed behind the record's back (an agent that lost it): the record still counts it.
    submitter.eventBus().request(NodeAgentVerticle.address(ENV, node), NodeAgentVerticle.undeployRequest("echo", 1))
      .await();

    await().atMost(AGREE).until(() -> {
      Map<String, Integer> running = running();
      return running.values().stream().mapToInt(Integer::intValue).sum() == 2 && running.equals(placed());
    });
  }

  @Test
  void aRegistrationTheClusterTookForADeadMembersIsPublishedAgainAndItsReplicasPlacedAgain() {
    environment(2);
    String me = member(submitter);
    IMap<String, String> services = map("services");
    IMap<String, String> placements = map("placements");
    // What the rest of the cluster did while this member was cut off, and what Hazelcast's merge left: its replicas
    // drained, its placement forgotten, and its registration back from the merge naming the member id it had before
    // (a member merged back has a new one). Under the service's lock, so that no pass sees half of it.
    placements.lock("echo");
    try {
      for (String node : NODES) {
        submitter.eventBus().request(NodeAgentVerticle.address(ENV, node), NodeAgentVerticle.undeployRequest("echo"))
          .await();
      }
      placements.delete("echo");
      JsonObject registration = new JsonObject(services.get("echo")).put("member", UUID.randomUUID().toString());
      services.set("echo", registration.encode());
    } finally {
      placements.unlock("echo");
    }

    await().atMost(AGREE).until(() -> {
      String registration = services.get("echo");
      Map<String, Integer> placed = placed();
      return registration != null && me.equals(new JsonObject(registration).getString("member")) && placed != null
        && placed.values().stream().mapToInt(Integer::intValue).sum() == 2 && running().equals(placed);
    });
    assertThat(env.services().<Integer>callAsync("echo", 42).await()).isEqualTo(42);
  }
}
