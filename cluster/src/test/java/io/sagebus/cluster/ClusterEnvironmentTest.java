package io.sagebus.cluster;

import io.sagebus.Job;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.MapFunction;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceDeploymentException;
import io.sagebus.ServiceNotFoundException;
import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static io.sagebus.cluster.ClusterTesting.ENV;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A submitting JVM (a Hazelcast lite member) and three nodes, all in this JVM, one cluster for
 * the class: placement, calls from any member, jobs, a planned leave and a node's death.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterEnvironmentTest {

  /** This class's own port range: 15801 to 15820. */
  private static final int FIRST_PORT = 15801;
  private static final String[] NODES = {"A", "B", "C"};

  private static Vertx submitter;
  private static final Map<String, Vertx> nodes = new HashMap<>();
  private static final Map<String, String> agents = new ConcurrentHashMap<>();
  private static ServiceCatalog catalog;
  private ClusterEnvironment env;

  @BeforeAll
  static void startCluster() {
    ClusterOptions options = ClusterTesting.options(ClusterEnvironmentTest.class, FIRST_PORT);
    catalog = ServiceCatalog.fromJson(new JsonObject().put("services", new JsonObject()
      .put("echo", new JsonObject().put("class", EchoService.class.getName()))
      .put("echo2", new JsonObject().put("class", EchoService.class.getName()))
      .put("named", new JsonObject().put("class", EchoService.class.getName()))));
    for (String node : NODES) {
      Vertx vertx = ClusterTesting.start(node, options);
      nodes.put(node, vertx);
      startAgent(node);
    }
    submitter = ClusterTesting.start("submitter", new ClusterOptions(options).setLiteMember(true));
  }

  private static void startAgent(String node) {
    agents.put(node, nodes.get(node).deployVerticle(NodeAgentVerticle.clustered(ENV, node, catalog)).await());
  }

  @AfterAll
  static void closeCluster() {
    // One after another, youngest first: members leaving all at once can leave Vert.x's listener removal
    // waiting on a member that has gone (seen: over 60 s).
    ClusterTesting.close(submitter);
    for (int i = NODES.length - 1; i >= 0; i--) {
      ClusterTesting.close(nodes.get(NODES[i]));
    }
  }

  @AfterEach
  void closeEnvironment() {
    if (env != null) {
      env.close().await();
      assertThat(env.openResources()).isEmpty();
    }
  }

  private ClusterEnvironment environment() {
    env = ClusterEnvironment.create(submitter, ENV, null).await();
    return env;
  }

  /** {@return the replicas of a service that the live agents run, by node} */
  private static Map<String, Integer> running(String service) {
    Map<String, Integer> running = new HashMap<>();
    for (Map.Entry<String, Vertx> e : nodes.entrySet()) {
      if (!agents.containsKey(e.getKey())) {
        continue;
      }
      JsonObject list = submitter.eventBus().<JsonObject>request(NodeAgentVerticle.address(ENV, e.getKey()),
        NodeAgentVerticle.listRequest()).await().body();
      int n = list.getJsonObject("services").getInteger(service, 0);
      if (n > 0) {
        running.put(e.getKey(), n);
      }
    }
    return running;
  }

  private static JsonObject placement(ClusterEnvironment env, String service) {
    for (Object o : env.placements().await()) {
      JsonObject p = (JsonObject) o;
      if (service.equals(p.getString("service"))) {
        return p;
      }
    }
    return null;
  }

  @Test
  @Order(1)
  void replicasSpreadOverTheNodesAndAnyMemberCallsThem() {
    environment().registerService("echo", EchoService.class, new ServiceOptions().setInstances(2));
    env.start().await();

    assertThat(running("echo")).hasSize(2).allSatisfy((node, n) -> assertThat(n).isEqualTo(1));
    JsonObject placement = placement(env, "echo");
    assertThat(placement.getInteger("replicas")).isEqualTo(2);
    assertThat(placement.getJsonObject("nodes").getMap()).isEqualTo(new HashMap<>(running("echo")));
    assertThat(env.nodes().await().stream().map(o -> ((JsonObject) o).getString("node"))).containsExactly(NODES);

    assertThat(env.services().<String>callAsync("echo", "from the submitter").await()).isEqualTo("from the submitter");
    // A node has no registry of its own: the cluster's directory tells it the service exists.
    ServiceClient fromA = ServiceClient.create(nodes.get("A"), ENV);
    assertThat(fromA.<String>callAsync("echo", "from A").await()).isEqualTo("from A");
    assertThatThrownBy(() -> fromA.callAsync("nobody", "x").await()).isInstanceOf(ServiceNotFoundException.class);

    env.undeploy("echo").await();
    assertThat(running("echo")).isEmpty();
    assertThat(placement(env, "echo")).isNull();
  }

  @Test
  @Order(2)
  void aServiceNoCatalogueHoldsIsRefusedWithWhatToDo() {
    environment().registerService("unknown", EchoService.class);
    // Same name as the catalogue, another class: never deployed as the catalogue's class.
    env.registerService("named", io.sagebus.testing.CountingService.class);

    assertThatThrownBy(() -> env.deploy("unknown").await())
      .isInstanceOf(ServiceDeploymentException.class)
      .hasMessageContaining("no live node has service 'unknown'")
      .hasMessageContaining("Start a node whose -conf lists it");
    assertThatThrownBy(() -> env.deploy("named").await())
      .isInstanceOf(ServiceDeploymentException.class)
      .hasMessageContaining("with another class")
      .hasMessageContaining(EchoService.class.getName());
    assertThat(running("named")).isEmpty();
  }

  @Test
  @Order(3)
  void aServiceNameRegisteredByAnotherMemberIsRefusedAndItsReplicasAreLeftAlone() {
    environment().registerService("echo", EchoService.class, new ServiceOptions().setInstances(2));
    env.start().await();
    ClusterEnvironment second = ClusterEnvironment.create(nodes.get("A"), ENV, null).await();
    try {
      second.registerService("echo", io.sagebus.testing.CountingService.class);
      assertThatThrownBy(() -> second.start().await())
        .isInstanceOf(ServiceDeploymentException.class)
        .hasMessageContaining("already registered in environment '" + ENV + "' by another member");
      // A job that needs it cannot start either, and its operators were taken at submit.
      second.fromBatch(List.of(1)).map(x -> x).sink(x -> { });
      assertThatThrownBy(() -> second.submit().await()).hasMessageContaining("by another member");
      // The second one can still call it, without registering it.
      assertThat(second.services().<String>callAsync("echo", "from the second").await()).isEqualTo("from the second");
    } finally {
      second.close().await();
    }
    // Closing the second one left the first one's service alone.
    assertThat(running("echo").values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(2);
    assertThat(env.services().<String>callAsync("echo", "still here").await()).isEqualTo("still here");
  }

  @Test
  @Order(3)
  void aSupplierRunsInTheSubmittingJvmAndTheClusterCallsIt() {
    AtomicInteger calls = new AtomicInteger();
    environment().registerService("local", () -> new NodeNameService("submitter", calls));
    env.start().await();

    assertThat(ServiceClient.create(nodes.get("B"), ENV).<String>callAsync("local").await()).isEqualTo("submitter");
    assertThat(calls.get()).isEqualTo(1);
    assertThat(placement(env, "local")).isNull();
  }

  @Test
  @Order(4)
  void aJobCallsReplicasOnTheNodesAndItsRecordIsInTheCluster() {
    environment().registerService("echo", EchoService.class, new ServiceOptions().setInstances(3));
    List<Integer> sunk = java.util.Collections.synchronizedList(new ArrayList<>());
    env.fromBatch(IntStream.range(0, 2000).boxed().toList())
      .map(new MapFunction<Integer, Integer>() {
        @Override
        public Integer execute(Integer value) {
          return callService("echo", value);
        }
      })
      .sink(sunk::add);
    Job job = env.submit().await();
    JobResult result = job.completion().await();

    assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(sunk).containsExactlyInAnyOrderElementsOf(IntStream.range(0, 2000).boxed().toList());
    // The job owned the service: it stopped with the job.
    assertThat(running("echo")).isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> env.jobRecords().await().stream()
      .map(o -> (JsonObject) o).anyMatch(r -> job.id().equals(r.getString("id"))
        && "COMPLETED".equals(r.getString("status"))));
  }

  @Test
  @Order(5)
  void aNodeThatLeavesHasItsReplicasPlacedElsewhereFirstAndNoCallFails() {
    environment().registerService("echo2", EchoService.class, new ServiceOptions().setInstances(2)
      .setRetryable(true).setRetryPolicy(new RetryPolicy().setMaxAttempts(10)
        .setAttemptTimeout(Duration.ofMillis(500))));
    env.start().await();
    String leaving = running("echo2").keySet().iterator().next();

    AtomicBoolean calling = new AtomicBoolean(true);
    List<Future<Object>> calls = new ArrayList<>();
    Thread caller = Thread.ofVirtual().start(() -> {
      int i = 0;
      while (calling.get()) {
        calls.add(env.services().callAsync("echo2", i++));
        env.services().callAsync("echo2", "pace").await();
      }
    });
    nodes.get(leaving).undeploy(agents.remove(leaving)).await();
    calling.set(false);
    try {
      caller.join();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }

    Map<String, Integer> after = running("echo2");
    assertThat(after.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(2);
    assertThat(after).doesNotContainKey(leaving);
    assertThat(Future.all(calls).await().list()).hasSize(calls.size());
    assertThat(placement(env, "echo2").getJsonObject("nodes").getMap()).isEqualTo(new HashMap<>(after));
    startAgent(leaving);
  }

  @Test
  @Order(6)
  void theReplicasOfAJvmThatDiesAreUndeployedNothingIsLeftRunning() {
    Vertx other = ClusterTesting.start("other submitter", new ClusterOptions(ClusterTesting.options(
      ClusterEnvironmentTest.class, FIRST_PORT)).setClusterName(SagebusCluster.hazelcast(submitter).getConfig()
      .getClusterName()));
    ClusterEnvironment orphaned = ClusterEnvironment.create(other, ENV, null).await();
    orphaned.registerService("echo2", EchoService.class, new ServiceOptions().setInstances(2));
    orphaned.start().await();
    assertThat(running("echo2").values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(2);

    SagebusCluster.hazelcast(other).getLifecycleService().terminate();

    environment();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(running("echo2")).isEmpty();
      assertThat(placement(env, "echo2")).isNull();
    });
    other.close().otherwise((Void) null).await();
  }

  @Test
  @Order(7)
  void whenANodeDiesTheOldestMemberPlacesItsReplicasAgainUpToTheWantedCount() {
    environment().registerService("echo", EchoService.class, new ServiceOptions().setInstances(3));
    env.start().await();
    assertThat(running("echo")).hasSize(3);

    Vertx dead = nodes.remove("C");
    agents.remove("C");
    SagebusCluster.hazelcast(dead).getLifecycleService().terminate();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      JsonObject placement = placement(env, "echo");
      assertThat(placement.getJsonObject("nodes").fieldNames()).doesNotContain("C");
      assertThat(running("echo").values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(3);
    });
    JsonObject placement = placement(env, "echo");
    assertThat(placement.getJsonObject("nodes").getMap()).isEqualTo(new HashMap<>(running("echo")));
    assertThat(env.nodes().await().stream().map(o -> ((JsonObject) o).getString("node"))).containsExactly("A", "B");
    for (int i = 0; i < 20; i++) {
      assertThat(env.services().<Integer>callAsync("echo", i).await()).isEqualTo(i);
    }
    dead.close().otherwise((Void) null).await();
  }

  @Test
  @Order(8)
  void aNodeThatStartsAgainUnderItsIdTakesTheReplicasOnlyItCouldRun() {
    ClusterOptions options = new ClusterOptions(ClusterTesting.options(ClusterEnvironmentTest.class, FIRST_PORT))
      .setClusterName(SagebusCluster.hazelcast(submitter).getConfig().getClusterName());
    ServiceCatalog soloCatalog = ServiceCatalog.fromJson(new JsonObject().put("services", new JsonObject()
      .put("solo", new JsonObject().put("class", EchoService.class.getName()))));
    Vertx first = ClusterTesting.start("D", options);
    Vertx second = null;
    try {
      first.deployVerticle(NodeAgentVerticle.clustered(ENV, "D", soloCatalog)).await();
      environment().registerService("solo", EchoService.class, new ServiceOptions().setInstances(1));
      env.deploy("solo").await();
      assertThat(placement(env, "solo").getJsonObject("nodes").getMap()).isEqualTo(Map.of("D", 1));

      SagebusCluster.hazelcast(first).getLifecycleService().terminate();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(placement(env, "solo").getJsonObject("nodes").getMap()).as("D's replica no longer counts").isEmpty());

      second = ClusterTesting.start("D again", options);
      second.deployVerticle(NodeAgentVerticle.clustered(ENV, "D", soloCatalog)).await();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(placement(env, "solo").getJsonObject("nodes").getMap()).isEqualTo(Map.of("D", 1)));
      JsonObject list = submitter.eventBus().<JsonObject>request(NodeAgentVerticle.address(ENV, "D"),
        NodeAgentVerticle.listRequest()).await().body();
      assertThat(list.getJsonObject("services").getInteger("solo")).isEqualTo(1);
      assertThat(env.services().<String>callAsync("solo", "back").await()).isEqualTo("back");
      env.undeploy("solo").await();
    } finally {
      first.close().otherwise((Void) null).await();
      if (second != null) {
        ClusterTesting.close(second);
      }
    }
  }
}
