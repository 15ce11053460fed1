package io.sagebus.cluster;

import io.sagebus.Job;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceOptions;
import io.sagebus.ServiceStats;
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
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three node JVMs from the built jar, and this JVM submitting a job to them as a lite member:
 * 100,000 records call a service with two replicas on the nodes; one node holding a replica is
 * killed with SIGKILL when 30% of the records are through. The job completes with every record
 * exactly once in the sink, the replicas come back to two (while the job runs), and the longest stall of the sink
 * after the kill stays far under the 15 s allowed with a 500 ms per-attempt timeout. Then a
 * second node holding a replica gets SIGTERM, a planned leave: its replica is placed on the last
 * node before it stops, and calls meanwhile all succeed.
 */
class ClusterFailoverIT {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterFailoverIT.class);
  /** This class's own port range: 15821 to 15840. */
  private static final int FIRST_PORT = 15821;
  private static final String ENV = "failover";
  private static final int RECORDS = 100_000;
  private static final List<String> NODES = List.of("n1", "n2", "n3");

  @TempDir
  Path dir;

  @Test
  void aJobSurvivesTheKillOfANodeWithEveryRecordOnceAndALeavingNodeHandsOverItsReplica() throws Exception {
    ClusterOptions options = ClusterTesting.options(ClusterFailoverIT.class, FIRST_PORT);
    long start = System.nanoTime();
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      run(options, nodes, start);
    } finally {
      LOG.info("failover test done after {} ms", ClusterTesting.millisSince(start));
    }
  }

  private void run(ClusterOptions options, NodeProcesses nodes, long start) throws Exception {
    ClusterEnvironment env = null;
    try {
      for (String node : NODES) {
        nodes.startNode(node, new JsonObject()
          .put("cluster", options.toJson())
          .put("environment", ENV)
          .put("nodeId", node)
          .put("services", new JsonObject().put("echo", new JsonObject().put("class", EchoService.class.getName()))));
      }
      for (String node : NODES) {
        nodes.awaitReady(node, options.getClusterName(), ENV);
      }
      LOG.info("3 nodes ready after {} ms", ClusterTesting.millisSince(start));

      env = ClusterEnvironment.create(new ClusterOptions(options).setLiteMember(true), ENV).await();
      ClusterEnvironment e = env;
      await().atMost(Duration.ofSeconds(60)).until(() -> e.nodes().await().size() == NODES.size());
      env.registerService("echo", EchoService.class, new ServiceOptions()
        .setInstances(2)
        .setRetryable(true)
        .setRetryPolicy(new RetryPolicy().setMaxAttempts(30).setAttemptTimeout(Duration.ofMillis(500))));

      SinkWatch sink = new SinkWatch(RECORDS);
      Job job = ClusterTesting.echoJob(env, RECORDS, sink);

      await().atMost(Duration.ofSeconds(60)).until(() -> sink.done() >= RECORDS * 3 / 10);
      JsonObject placement = (JsonObject) env.placements().await().getValue(0);
      String victim = placement.getJsonObject("nodes").fieldNames().iterator().next();
      LOG.info("placement before the kill: {}; killing {} after {} records", placement, victim, sink.done());
      sink.mark();
      nodes.process(victim).destroyForcibly();
      // The oldest member places the lost replica on the third node while the job runs: two again, not three.
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        JsonObject nodesNow = ((JsonObject) e.placements().await().getValue(0)).getJsonObject("nodes");
        return !nodesNow.containsKey(victim) && nodesNow.getMap().values().stream()
          .mapToInt(n -> ((Number) n).intValue()).sum() == 2;
      });
      LOG.info("placement after the kill: {}, {} records done", e.placements().await(), sink.done());

      JobResult result = job.completion().await();
      long stallMs = sink.longestStallMillis();
      ServiceStats stats = env.services().stats("echo").await();
      System.out.printf("ClusterFailoverIT: %,d records, kill -9 of node %s after %,d; longest sink stall after the "
          + "kill %d ms; %d calls retried; job took %d ms%n", RECORDS, victim, RECORDS * 3 / 10, stallMs,
        stats.retries(), result.duration().toMillis());
      assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
      sink.assertEveryRecordOnce();
      assertThat(stallMs).as("longest stall after the kill, ms").isLessThan(15_000);

      // The job owned the service and stopped it; place it again to see the leave of a node.
      env.deploy("echo").await();
      Map<String, Object> before = ((JsonObject) env.placements().await().getValue(0)).getJsonObject("nodes").getMap();
      assertThat(before.keySet()).hasSize(2).doesNotContain(victim);
      String leaving = before.keySet().iterator().next();
      AtomicInteger failures = new AtomicInteger();
      AtomicInteger calls = new AtomicInteger();
      Thread caller = Thread.ofVirtual().start(() -> {
        while (nodes.process(leaving).isAlive()) {
          try {
            e.services().call("echo", calls.incrementAndGet());
          } catch (RuntimeException ex) {
            LOG.warn("call failed during the leave", ex);
            failures.incrementAndGet();
          }
        }
      });
      NodeProcesses.stop(nodes.process(leaving));
      caller.join();
      JsonObject after = (JsonObject) env.placements().await().getValue(0);
      LOG.info("placement after {} left: {}; {} calls during the leave", leaving, after, calls.get());
      // 143 = 128 + SIGTERM: the JVM ran its shutdown hooks and ended; a kill would give 137.
      assertThat(nodes.process(leaving).exitValue()).as("exit code after SIGTERM").isEqualTo(143);
      assertThat(failures.get()).isZero();
      String remaining = NODES.stream().filter(n -> !n.equals(victim) && !n.equals(leaving)).findFirst().orElseThrow();
      assertThat(after.getJsonObject("nodes").getMap()).isEqualTo(Map.of(remaining, 2));
      assertThat(Files.readString(nodes.out(leaving))).contains("placed 1 replica(s) of 'echo' on node " + remaining);
    } finally {
      if (env != null) {
        env.close().await();
      }
    }
  }
}
