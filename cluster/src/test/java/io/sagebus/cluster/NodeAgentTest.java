package io.sagebus.cluster;

import io.sagebus.FailureCode;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static io.sagebus.cluster.ClusterTesting.ENV;
import static io.sagebus.cluster.ClusterTesting.answers;
import static io.sagebus.cluster.ClusterTesting.awaitVisible;
import static io.sagebus.cluster.ClusterTesting.members;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Two clustered Vertx instances in this JVM, one cluster for the class: node A asks the agent of
 * node B to deploy and undeploy replicas of B's catalogue, and nothing else.
 */
@ExtendWith(VertxExtension.class)
class NodeAgentTest {

  /** This class's own port range: 15741 to 15760. */
  private static final int FIRST_PORT = 15741;
  private static final String AGENT_B = NodeAgentVerticle.address(ENV, "B");
  private static final AtomicInteger FLAKY_MADE = new AtomicInteger();

  private static Vertx a;
  private static Vertx b;

  @BeforeAll
  static void startCluster() {
    ClusterOptions options = ClusterTesting.options(NodeAgentTest.class, FIRST_PORT);
    a = ClusterTesting.start("A", options);
    b = ClusterTesting.start("B", options);
    assertThat(members(a)).isEqualTo(2);
    ServiceCatalog catalog = ServiceCatalog.fromJson(new JsonObject().put("services", new JsonObject()
      .put("echo", new JsonObject().put("class", EchoService.class.getName()))
      .put("surplus", new JsonObject().put("class", EchoService.class.getName()))
      .put("versioned", new JsonObject().put("class", EchoService.class.getName()))
      .put("listed", new JsonObject().put("class", EchoService.class.getName())
        .put("options", new JsonObject().put("maxConcurrency", 4)))
      .put("ctx", new JsonObject().put("class", ContextAwareService.class.getName())
        .put("options", new JsonObject().put("config", new JsonObject().put("greeting", "hi"))))))
      // The second replica made fails, so a deploy of three rolls back.
      .add("flaky", () -> {
        if (FLAKY_MADE.incrementAndGet() == 2) {
          throw new IllegalStateException("replica 2 cannot start");
        }
        return new EchoService();
      }, new ServiceOptions());
    b.deployVerticle(new NodeAgentVerticle(ENV, "B", catalog)).await();
    awaitVisible(a, AGENT_B);
  }

  @AfterAll
  static void closeCluster() {
    ClusterTesting.close(a, b);
  }

  private static JsonObject ask(Vertx from, JsonObject request) {
    return from.eventBus().<JsonObject>request(AGENT_B, request).await().body();
  }

  private static void assertRefused(Object request, String... messageParts) {
    assertThatThrownBy(() -> a.eventBus().request(AGENT_B, request).await())
      .as(String.valueOf(request))
      .isInstanceOfSatisfying(ReplyException.class, e -> {
        assertThat(e.failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
        assertThat(new JsonObject(e.getMessage()).getString("message")).contains(messageParts);
      });
  }

  @Test
  void aNodeDeploysAReplicaOfItsCatalogueOnRequestAndUndeploysIt() {
    String address = "sagebus." + ENV + ".service.echo";
    assertThat(answers(a, address)).isFalse();

    JsonObject deployed = ask(a, NodeAgentVerticle.deployRequest("echo", 1));
    assertThat(deployed).isEqualTo(new JsonObject().put("service", "echo").put("deployed", 1).put("running", 1));
    awaitVisible(a, address);
    ServiceClient client = ServiceClient.create(a, ENV);
    assertThat(client.<String>callAsync("echo", "hello").await()).isEqualTo("hello");

    JsonObject undeployed = ask(a, NodeAgentVerticle.undeployRequest("echo"));
    assertThat(undeployed).isEqualTo(new JsonObject().put("service", "echo").put("undeployed", 1).put("running", 0));
    await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10))
      .until(() -> !answers(a, address));
    // Undeploying what is not running is answered, not failed.
    assertThat(ask(a, NodeAgentVerticle.undeployRequest("echo")).getInteger("undeployed")).isZero();
  }

  @Test
  void aClassOnTheClasspathButNotInTheCatalogueIsNeverLoaded() {
    assertThat(MarkerFlag.INITIALIZED.get()).isFalse();
    for (String name : new String[]{"Marker", "io.sagebus.cluster.Marker", "io/sagebus/cluster/Marker",
      "io.sagebus.cluster.Marker.class", "L io.sagebus.cluster.Marker;\n"}) {
      assertRefused(NodeAgentVerticle.deployRequest(name, 1), "is not in the catalogue of node B",
        "never classes");
      assertRefused(NodeAgentVerticle.undeployRequest(name), "is not in the catalogue of node B");
      assertRefused(new JsonObject().put("action", "deploy").put("service", name).put("class", name),
        "is not in the catalogue");
    }
    assertRefused(new JsonObject().put("action", "deploy").put("class", "io.sagebus.cluster.Marker"),
      "service null is not in the catalogue");
    assertThat(MarkerFlag.INITIALIZED.get()).isFalse();
    assertThat(ask(a, NodeAgentVerticle.listRequest()).getJsonObject("services").fieldNames())
      .doesNotContain("Marker", "io.sagebus.cluster.Marker");

    // Malformed requests are refused too.
    assertRefused("deploy echo", "must be a JSON object");
    assertRefused(new JsonObject().put("action", "load").put("service", "echo"), "unknown action");
    assertRefused(NodeAgentVerticle.deployRequest("echo", 0), "\"instances\" must be an integer");
    assertRefused(new JsonObject().put("action", "deploy").put("service", "echo").put("instances", "2"),
      "\"instances\" must be an integer");

    // The flag does work: loading the class for real sets it.
    try {
      Class.forName("io.sagebus.cluster.Marker");
    } catch (ClassNotFoundException e) {
      throw new AssertionError(e);
    }
    assertThat(MarkerFlag.INITIALIZED.get()).isTrue();
  }

  @Test
  void aJavaSerializedRequestIsRefusedAtOnce() {
    // The sender allows Java serialization; the agent's member does not: reading the body throws there.
    a.eventBus().serializableChecker(name -> true);
    try {
      java.util.HashMap<String, Object> map = new java.util.HashMap<>();
      map.put("action", "list");
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> a.eventBus().request(AGENT_B, map,
          new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(30_000)).await())
        .isInstanceOfSatisfying(ReplyException.class, e -> {
          assertThat(e.failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
          assertThat(new JsonObject(e.getMessage()).getString("message")).contains("Java serialization is refused");
        });
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    } finally {
      a.eventBus().serializableChecker(io.vertx.core.eventbus.EventBus.DEFAULT_SERIALIZABLE_CHECKER);
    }
  }

  @Test
  void anUndeployOfSomeReplicasDrainsOnlyThoseAndTheOthersKeepServing() {
    assertThat(ask(a, NodeAgentVerticle.deployRequest("surplus", 3)).getInteger("running")).isEqualTo(3);
    awaitVisible(a, "sagebus." + ENV + ".service.surplus");
    assertThat(ask(a, NodeAgentVerticle.undeployRequest("surplus", 2)))
      .isEqualTo(new JsonObject().put("service", "surplus").put("undeployed", 2).put("running", 1));
    assertThat(ask(a, NodeAgentVerticle.listRequest()).getJsonObject("services").getInteger("surplus")).isEqualTo(1);
    ServiceClient client = ServiceClient.create(a, ENV);
    for (int i = 0; i < 20; i++) {
      assertThat(client.<Integer>callAsync("surplus", i).await()).isEqualTo(i);
    }
    // More than run: every one left goes, and the answer says how many did.
    assertThat(ask(a, NodeAgentVerticle.undeployRequest("surplus", 5)))
      .isEqualTo(new JsonObject().put("service", "surplus").put("undeployed", 1).put("running", 0));
    assertThat(ask(a, NodeAgentVerticle.undeployRequest("surplus", 1)).getInteger("undeployed")).isZero();
    assertRefused(NodeAgentVerticle.undeployRequest("surplus", 0), "\"instances\" must be an integer");
    assertRefused(NodeAgentVerticle.undeployRequest("surplus").put("instances", "all"), "\"instances\" must be");
  }

  @Test
  void replicasCarryTheirVersionAndAnUndeployOfOutdatedOnesTakesOnlyOthersOldestFirst() {
    assertThat(ask(a, NodeAgentVerticle.deployRequest("versioned", 2, 1)).getInteger("running")).isEqualTo(2);
    assertThat(ask(a, NodeAgentVerticle.deployRequest("versioned", 1, 2)).getInteger("running")).isEqualTo(3);
    awaitVisible(a, "sagebus." + ENV + ".service.versioned");
    assertThat(ask(a, NodeAgentVerticle.listRequest()).getJsonObject("versions").getJsonObject("versioned"))
      .isEqualTo(new JsonObject().put("1", 2).put("2", 1));

    // The one of version 2 was deployed last, yet an undeploy of versions other than 2 leaves it.
    assertThat(ask(a, NodeAgentVerticle.undeployOutdatedRequest("versioned", 1, 2)))
      .isEqualTo(new JsonObject().put("service", "versioned").put("undeployed", 1).put("running", 2));
    ServiceClient client = ServiceClient.create(a, ENV);
    for (int i = 0; i < 20; i++) {
      assertThat(client.<Integer>callAsync("versioned", i).await()).isEqualTo(i);
    }
    assertThat(ask(a, NodeAgentVerticle.undeployOutdatedRequest("versioned", 5, 2)))
      .isEqualTo(new JsonObject().put("service", "versioned").put("undeployed", 1).put("running", 1));
    assertThat(ask(a, NodeAgentVerticle.undeployOutdatedRequest("versioned", 5, 2)).getInteger("undeployed")).isZero();
    assertThat(ask(a, NodeAgentVerticle.listRequest()).getJsonObject("versions").getJsonObject("versioned"))
      .isEqualTo(new JsonObject().put("2", 1));
    assertRefused(NodeAgentVerticle.deployRequest("versioned", 1).put("version", -1), "\"version\" must be");
    assertRefused(NodeAgentVerticle.undeployRequest("versioned", 1).put("keepVersion", "2"), "\"keepVersion\" must be");

    ask(a, NodeAgentVerticle.undeployRequest("versioned"));
    assertThat(ask(a, NodeAgentVerticle.listRequest()).getJsonObject("versions").containsKey("versioned")).isFalse();
  }

  @Test
  void listAnswersTheCatalogueAndTheRunningReplicas() {
    assertThat(ask(a, NodeAgentVerticle.listRequest()).getJsonObject("services").getInteger("listed")).isZero();
    assertThat(ask(a, NodeAgentVerticle.deployRequest("listed", 2)).getInteger("running")).isEqualTo(2);
    assertThat(ask(a, NodeAgentVerticle.deployRequest("listed", 1)).getInteger("running")).isEqualTo(3);
    JsonObject list = ask(a, NodeAgentVerticle.listRequest());
    assertThat(list.getString("node")).isEqualTo("B");
    assertThat(list.getJsonObject("services").fieldNames()).containsExactlyInAnyOrder("echo", "surplus", "versioned", "listed", "ctx",
      "flaky");
    assertThat(list.getJsonObject("services").getInteger("listed")).isEqualTo(3);

    assertThat(ask(a, NodeAgentVerticle.undeployRequest("listed")).getInteger("undeployed")).isEqualTo(3);
    assertThat(ask(a, NodeAgentVerticle.listRequest()).getJsonObject("services").getInteger("listed")).isZero();
  }

  @Test
  void aServiceContextConstructorGetsTheReplicasContext() {
    ask(a, NodeAgentVerticle.deployRequest("ctx", 1));
    awaitVisible(a, "sagebus." + ENV + ".service.ctx");
    assertThat(ServiceClient.create(a, ENV).<String>callAsync("ctx").await())
      .isEqualTo("ctx|" + ENV + "|sagebus." + ENV + ".service.ctx|hi");
    ask(a, NodeAgentVerticle.undeployRequest("ctx"));
  }

  @Test
  void aReplicaThatFailsToStartRollsBackTheOthers() {
    Set<String> before = new HashSet<>(b.deploymentIDs());
    assertThatThrownBy(() -> ask(a, NodeAgentVerticle.deployRequest("flaky", 3)))
      .isInstanceOfSatisfying(ReplyException.class, e -> {
        assertThat(e.failureCode()).isEqualTo(FailureCode.SERVICE_ERROR.code());
        assertThat(e.getMessage()).contains("deploy of service 'flaky' failed").contains("replica 2 cannot start");
      });
    assertThat(FLAKY_MADE.get()).isEqualTo(3);
    assertThat(ask(a, NodeAgentVerticle.listRequest()).getJsonObject("services").getInteger("flaky")).isZero();
    assertThat(b.deploymentIDs()).containsExactlyInAnyOrderElementsOf(before);
    // The cluster's view of the address catches up with the undeploys a moment later.
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
      .until(() -> !answers(b, "sagebus." + ENV + ".service.flaky"));
  }

  @Test
  void undeployingTheAgentUndeploysItsReplicas() {
    String env = "other";
    Set<String> before = new HashSet<>(a.deploymentIDs());
    String agent = a.deployVerticle(new NodeAgentVerticle(env, "A",
      ServiceCatalog.create().add("echo", EchoService.class, null))).await();
    JsonObject deployed = a.eventBus().<JsonObject>request(NodeAgentVerticle.address(env, "A"),
      NodeAgentVerticle.deployRequest("echo", 2)).await().body();
    assertThat(deployed.getInteger("running")).isEqualTo(2);
    assertThat(a.deploymentIDs()).hasSize(before.size() + 3);
    assertThat(ServiceClient.create(a, env).<Integer>callAsync("echo", io.sagebus.CallOptions.method("add"), 2, 3)
      .await()).isEqualTo(5);

    a.undeploy(agent).await();
    assertThat(a.deploymentIDs()).containsExactlyInAnyOrderElementsOf(before);
    assertThat(answers(a, "sagebus." + env + ".service.echo")).isFalse();
  }
}
