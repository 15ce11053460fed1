package io.sagebus.cluster;

import io.sagebus.CallHandle;
import io.sagebus.CallOptions;
import io.sagebus.ServiceCancelledException;
import io.sagebus.ServiceOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Cancellation across JVMs: three node JVMs from the built jar, each with one service of a chain
 * ({@code top} on c1 calls {@code middle} on c2, which calls {@code bottom} on c3; each then sleeps
 * 30 s); this JVM, a lite member, calls {@code top} and cancels the call through its handle. All
 * three invocations stop: each node says its thread was interrupted, no code after a sleep ran, and
 * each instance has nothing in flight or queued: its single slot ({@code maxConcurrency} 1) is free,
 * for a probe call to it is answered. The time from the cancel to the last interrupt is printed
 * (epoch milliseconds of one machine). Every node's output is printed when the test fails.
 */
class CancellationIT {

  private static final Logger LOG = LoggerFactory.getLogger(CancellationIT.class);
  /** This class's own port range: 16141 to 16160. */
  private static final int FIRST_PORT = 16141;
  private static final String ENV = "cancel";
  private static final List<String> CHAIN = List.of("top", "middle", "bottom");

  @TempDir
  Path dir;

  private static String node(String service) {
    return "c" + (CHAIN.indexOf(service) + 1);
  }

  private static ServiceOptions optionsOf(String service) {
    int i = CHAIN.indexOf(service);
    JsonObject config = i + 1 < CHAIN.size() ? new JsonObject().put("next", CHAIN.get(i + 1)) : new JsonObject();
    return new ServiceOptions().setConfig(config).setDrainTimeout(Duration.ofSeconds(60));
  }

  @Test
  void cancellingTheTopCallStopsTheInvocationsOnAllThreeJvms() throws Exception {
    ClusterOptions options = ClusterTesting.options(CancellationIT.class, FIRST_PORT);
    Path testClasses = Path.of(CancelChainService.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      try {
        run(options, nodes, testClasses);
      } catch (Throwable t) {
        nodes.dump();
        throw t;
      }
    }
  }

  private void run(ClusterOptions options, NodeProcesses nodes, Path testClasses) throws Exception {
    for (String service : CHAIN) {
      nodes.startNode(node(service), new JsonObject()
        .put("cluster", options.toJson())
        .put("environment", ENV)
        .put("nodeId", node(service))
        .put("services", new JsonObject().put(service, new JsonObject()
          .put("class", CancelChainService.class.getName())
          .put("options", optionsOf(service).toJson()))), List.of(testClasses));
    }
    for (String service : CHAIN) {
      nodes.awaitReady(node(service), options.getClusterName(), ENV);
    }
    ClusterEnvironment env = ClusterEnvironment.create(new ClusterOptions(options).setLiteMember(true), ENV).await();
    try {
      for (String service : CHAIN) {
        env.registerService(service, CancelChainService.class, optionsOf(service));
      }
      env.start().await();
      for (String service : CHAIN) {
        // Visible and answering (a consumer reaches the other members a little after it registered).
        await("a probe of " + service).atMost(Duration.ofSeconds(60)).ignoreExceptions()
          .until(() -> probe(env, service).getInteger("started") == 0);
      }

      CallHandle<String> handle = env.services().callCancellable("top",
        CallOptions.create().timeout(Duration.ofSeconds(60)), "t");
      for (String service : CHAIN) {
        await("the start of " + service).atMost(Duration.ofSeconds(30))
          .until(() -> Files.readString(nodes.out(node(service))).contains("chain " + service + " started"));
      }
      long cancelledAt = System.currentTimeMillis();
      assertThat(handle.cancel()).isTrue();
      assertThat(handle.future().cause()).isInstanceOf(ServiceCancelledException.class);

      Map<String, JsonObject> probes = new HashMap<>();
      for (String service : CHAIN) {
        // Answered only once the instance's one slot is free: its cancelled call no longer holds it.
        await("nothing in flight at " + service).atMost(Duration.ofSeconds(30)).ignoreExceptions()
          .until(() -> {
            JsonObject p = probe(env, service);
            probes.put(service, p);
            return p.getInteger("interrupted") == 1 && p.getInteger("inside") == 0;
          });
      }
      long last = probes.values().stream().mapToLong(p -> p.getLong("interruptedAtMillis")).max().orElseThrow();
      System.out.printf("CancellationIT: the three invocations on three JVMs were interrupted %d ms after the cancel%n",
        last - cancelledAt);
      LOG.info("probes after the cancel: {}", probes);
      for (String service : CHAIN) {
        JsonObject p = probes.get(service);
        assertThat(p.getInteger("started")).as("%s started once", service).isEqualTo(1);
        assertThat(p.getInteger("afterSleep")).as("code after the sleep of %s", service).isZero();
        assertThat(Files.readString(nodes.out(node(service)))).contains("chain " + service + " interrupted")
          .doesNotContain("slept to the end");
      }
    } finally {
      env.close().await();
    }
  }

  private static JsonObject probe(ClusterEnvironment env, String service) {
    return env.services().call(service, CallOptions.method("probe").timeout(Duration.ofSeconds(2)));
  }
}
