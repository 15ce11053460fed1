package io.sagebus.cluster;

import io.sagebus.Job;
import io.sagebus.MapFunction;
import io.sagebus.ServiceOptions;
import io.sagebus.ServiceTaskVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.sagebus.testing.EchoService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;

/** Starting, using and closing clustered nodes in tests. */
final class ClusterTesting {

  static final String ENV = "env";
  private static final Logger LOG = LoggerFactory.getLogger(ClusterTesting.class);

  private ClusterTesting() {
  }

  /**
   * Options of a test class's own cluster: a cluster name no other run shares, and the class's own
   * port range, so that classes and parallel runs never join each other.
   */
  static ClusterOptions options(Class<?> testClass, int firstPort) {
    return new ClusterOptions()
      .setClusterName("sagebus-test-" + testClass.getSimpleName() + "-" + UUID.randomUUID())
      .setPort(firstPort)
      .setPortCount(20);
  }

  static Vertx start(String node, ClusterOptions options) {
    long start = System.nanoTime();
    Vertx vertx = SagebusCluster.vertx(options).await();
    LOG.info("node {} joined cluster {} in {} ms, at {}", node, options.getClusterName(), millisSince(start),
      SagebusCluster.hazelcast(vertx).getCluster().getLocalMember().getAddress());
    return vertx;
  }

  static int members(Vertx vertx) {
    return SagebusCluster.hazelcast(vertx).getCluster().getMembers().size();
  }

  /** Deploys one replica of a service by hand, as the node agent will. */
  static ServiceTaskVerticle deploy(Vertx node, String service, Supplier<?> factory) {
    ServiceTaskVerticle task = new ServiceTaskVerticle(ENV, service, factory, new ServiceOptions());
    node.deployVerticle(task, new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)).await();
    return task;
  }

  /**
   * Waits until {@code from} sees a consumer of {@code address} on some node: a raw request with a
   * body no service accepts stops failing with NO_HANDLERS (the service answers BAD_REQUEST).
   */
  static Duration awaitVisible(Vertx from, String address) {
    long start = System.nanoTime();
    AtomicInteger probes = new AtomicInteger();
    await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10))
      .until(() -> {
        probes.incrementAndGet();
        return answers(from, address);
      });
    Duration waited = Duration.ofNanos(System.nanoTime() - start);
    LOG.info("{} visible after {} ms ({} probes)", address, waited.toMillis(), probes.get());
    return waited;
  }

  /** {@return whether some consumer of the address answered (even with a failure)} */
  static boolean answers(Vertx from, String address) {
    try {
      from.eventBus().request(address, "visibility probe", new DeliveryOptions().setSendTimeout(2000)).await();
      return true;
    } catch (ReplyException e) {
      return e.failureType() != ReplyFailure.NO_HANDLERS;
    }
  }

  /** Closes the nodes together (Hazelcast's graceful leave takes about a second per node one after another). */
  static void close(Vertx... nodes) {
    long start = System.nanoTime();
    Future.join(Arrays.stream(nodes).filter(Objects::nonNull).map(Vertx::close).toList())
      .await();
    LOG.info("closed {} nodes in {} ms", Arrays.stream(nodes).filter(Objects::nonNull).count(), millisSince(start));
  }

  /** Starts node JVMs whose catalogue holds {@code echo}, each once the one before is ready: the first is the oldest member. */
  static void startEchoNodesInOrder(NodeProcesses nodes, ClusterOptions options, String environment, List<String> ids)
    throws Exception {
    for (String node : ids) {
      nodes.startNode(node, new JsonObject()
        .put("cluster", options.toJson())
        .put("environment", environment)
        .put("nodeId", node)
        .put("services", new JsonObject().put("echo", new JsonObject().put("class", EchoService.class.getName()))));
      nodes.awaitReady(node, options.getClusterName(), environment);
    }
  }

  /** {@return a lite-member environment of the cluster, once it sees {@code nodes} nodes} */
  static ClusterEnvironment liteEnvironment(ClusterOptions options, String environment, int nodes) {
    ClusterEnvironment env = ClusterEnvironment.create(new ClusterOptions(options).setLiteMember(true), environment)
      .await();
    await().atMost(Duration.ofSeconds(60)).until(() -> env.nodes().await().size() == nodes);
    return env;
  }

  /** {@return a submitted job of records 0 to {@code records - 1} through {@code map(callService("echo"), 8)} into the sink} */
  static Job echoJob(ClusterEnvironment env, int records, SinkWatch sink) {
    env.fromBatch(IntStream.range(0, records).boxed().toList())
      .map(new MapFunction<Integer, Integer>() {
        @Override
        public Integer execute(Integer value) {
          return callService("echo", value);
        }
      }, 8)
      .sink(sink);
    return env.submit().await();
  }

  /** {@return the replicas of the environment's only placed service, per node} */
  static Map<String, Object> placement(ClusterEnvironment env) {
    return ((JsonObject) env.placements().await().getValue(0)).getJsonObject("nodes").getMap();
  }

  static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }
}
