package io.sagebus.cluster;

import io.sagebus.CallOptions;
import io.sagebus.ServiceDeploymentException;
import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.EchoServiceV2;
import io.sagebus.testing.SlowService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.sagebus.cluster.ClusterTesting.ENV;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Rolling replacement in one JVM's cluster: a submitting lite member and three nodes, A and B with
 * {@code echo} as {@link EchoService}, C with {@code echo} as {@link EchoServiceV2}. Callers keep
 * calling (no retry policy) while the replicas are replaced: no call fails.
 */
class ClusterRedeployTest {

  /** This class's own port range: 16401 to 16420. */
  private static final int FIRST_PORT = 16401;

  private static Vertx submitter;
  private static final Map<String, Vertx> nodes = new LinkedHashMap<>();
  private ClusterEnvironment env;

  @BeforeAll
  static void startCluster() {
    ClusterOptions options = ClusterTesting.options(ClusterRedeployTest.class, FIRST_PORT);
    for (String node : List.of("A", "B", "C")) {
      Vertx vertx = ClusterTesting.start(node, options);
      nodes.put(node, vertx);
      Class<?> echo = "C".equals(node) ? EchoServiceV2.class : EchoService.class;
      vertx.deployVerticle(NodeAgentVerticle.clustered(ENV, node, ServiceCatalog.create().add("echo", echo, null)))
        .await();
    }
    submitter = ClusterTesting.start("submitter", new ClusterOptions(options).setLiteMember(true));
  }

  @AfterAll
  static void closeCluster() {
    ClusterTesting.close(submitter);
    List<String> ids = new ArrayList<>(nodes.keySet());
    for (int i = ids.size() - 1; i >= 0; i--) {
      ClusterTesting.close(nodes.get(ids.get(i)));
    }
  }

  @AfterEach
  void closeEnvironment() {
    if (env != null) {
      env.close().await();
    }
  }

  /** {@return the replicas of echo the agents run: node to {version: count}} */
  private static Map<String, JsonObject> versions() {
    Map<String, JsonObject> out = new TreeMap<>();
    for (String node : nodes.keySet()) {
      JsonObject list = submitter.eventBus().<JsonObject>request(NodeAgentVerticle.address(ENV, node),
        NodeAgentVerticle.listRequest()).await().body();
      JsonObject echo = list.getJsonObject("versions").getJsonObject("echo");
      if (echo != null) {
        out.put(node, echo);
      }
    }
    return out;
  }

  /** Callers that keep calling echo until stopped, counting answers and failures. */
  private static final class Callers implements AutoCloseable {
    final AtomicBoolean calling = new AtomicBoolean(true);
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    final List<Thread> threads = new ArrayList<>();

    Callers(ClusterEnvironment env, int count) {
      for (int i = 0; i < count; i++) {
        int id = i;
        threads.add(Thread.ofVirtual().start(() -> {
          int n = 0;
          while (calling.get()) {
            try {
              int value = id * 1_000_000 + n++;
              Integer answer = env.services().call("echo", CallOptions.create().timeout(Duration.ofSeconds(30)), value);
              if (answer != value) {
                throw new AssertionError("echo answered " + answer + " to " + value);
              }
              answered.incrementAndGet();
            } catch (RuntimeException | AssertionError e) {
              failed.incrementAndGet();
              firstFailure.compareAndSet(null, e);
            }
          }
        }));
      }
    }

    @Override
    public void close() throws InterruptedException {
      calling.set(false);
      for (Thread t : threads) {
        t.join(Duration.ofSeconds(60));
      }
    }
  }

  @Test
  void aRedeployReplacesTheReplicasOneAtATimeAndThenANewClassMovesThemToTheNodeThatOffersIt() throws Exception {
    env = ClusterEnvironment.create(submitter, ENV, null).await();
    env.registerService("echo", EchoService.class, new ServiceOptions().setInstances(2));
    env.deploy("echo").await();
    assertThat(versions()).isEqualTo(Map.of("A", new JsonObject().put("1", 1), "B", new JsonObject().put("1", 1)));

    Callers callers = new Callers(env, 8);
    try {
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> callers.answered.get() > 200);
      env.redeploy("echo", new ServiceOptions().setInstances(2)).await();
      assertThat(versions()).as("the same spread, all of version 2")
        .isEqualTo(Map.of("A", new JsonObject().put("2", 1), "B", new JsonObject().put("2", 1)));

      int before = callers.answered.get();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> callers.answered.get() > before + 200);
      env.redeploy("echo", EchoServiceV2.class, new ServiceOptions().setInstances(2)).await();
      assertThat(versions()).as("only C offers the new class").isEqualTo(Map.of("C", new JsonObject().put("3", 2)));
      int after = callers.answered.get();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> callers.answered.get() > after + 200);
    } finally {
      callers.close();
    }
    assertThat(callers.failed.get()).as("failed calls (first: %s)", callers.firstFailure.get()).isZero();
    assertThat(env.services().<Integer>call("echo", CallOptions.method("version"))).isEqualTo(2);
    JsonObject placement = (JsonObject) env.placements().await().getValue(0);
    assertThat(placement.getString("type")).isEqualTo(EchoServiceV2.class.getName());
    assertThat(placement.getInteger("replicas")).isEqualTo(2);
    assertThat(placement.getJsonObject("nodes")).isEqualTo(new JsonObject().put("C", 2));
  }

  @Test
  void aRedeployToAClassNoNodeOffersFailsAndLeavesTheReplicasRunning() {
    env = ClusterEnvironment.create(submitter, ENV, null).await();
    env.registerService("echo", EchoService.class, new ServiceOptions().setInstances(2));
    env.deploy("echo").await();
    Map<String, JsonObject> before = versions();

    Throwable failure = catchThrowable(() -> env.redeploy("echo", SlowService.class, null).await());

    assertThat(failure).isInstanceOf(ServiceDeploymentException.class)
      .hasMessageContaining("no live node has service 'echo' of class " + SlowService.class.getName());
    assertThat(versions()).isEqualTo(before);
    assertThat(env.services().<String>call("echo", "still")).isEqualTo("still");
  }
}
