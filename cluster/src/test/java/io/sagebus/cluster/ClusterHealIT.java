package io.sagebus.cluster;

import io.sagebus.BatchFunction;
import io.sagebus.Job;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.MapFunction;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static io.sagebus.cluster.ClusterTesting.millisSince;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A node cut off from its cluster for 15 s and back, while a job runs through a service of two replicas, one of
 * them on that node: frozen with SIGSTOP (then SIGCONT), or, in network namespaces of the test's own, its link to
 * the others down. The rest of the cluster drops it and re-places its replica; after it is back (Hazelcast's
 * split-brain merge, within seconds), it is listed among the nodes again, every agent runs exactly the replicas the
 * placement record says, two in all, and the job ends with every record once. After the job (which owned the
 * service) nothing runs for it on any node. Each scenario prints the time from healing to a correct placement.
 */
class ClusterHealIT {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterHealIT.class);
  /** This class's own port ranges: 16241 to 16260 (frozen node), 16261 (partition, one port per host). */
  private static final int FREEZE_PORT = 16241;
  private static final int PARTITION_PORT = 16261;
  private static final String ENV = "heal";
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  private static final Duration FAULT = Duration.ofSeconds(15);
  /** Generous for a loaded 2-core machine: a few seconds on an idle one. */
  private static final Duration HEAL_TIMEOUT = Duration.ofSeconds(150);
  /** Three node JVMs starting at once on a loaded 2-core machine can take a minute or more. */
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(150);
  private static final int MAX_RECORDS = 3_000_000;
  /** Every call has finished well before this once the last record is produced (a call's budget is 30 s). */
  private static final Duration JOB_END_TIMEOUT = Duration.ofSeconds(90);
  /** The job's records keep coming this long after the placement is correct again: they run through the healed cluster. */
  private static final Duration AFTER_HEAL = Duration.ofSeconds(5);

  /** Node start-up, a 15 s fault, the merge and the job's end, with room for a loaded machine. */
  private static final long TEST_MINUTES = 10;

  @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.NEVER)
  Path dir;

  /** How a scenario cuts a node off and brings it back. */
  private interface Fault {
    void cut(String node) throws Exception;

    void heal(String node) throws Exception;
  }

  private static JsonObject conf(ClusterOptions options, String node) {
    return new JsonObject()
      .put("cluster", options.toJson())
      .put("environment", ENV)
      .put("nodeId", node)
      .put("services", new JsonObject().put("echo", new JsonObject().put("class", EchoService.class.getName())));
  }

  @Test
  @Timeout(value = TEST_MINUTES, unit = TimeUnit.MINUTES)
  void aNodeFrozenFor15sIsListedAgainAndRunsWhatThePlacementSaysWithNoRecordLostOrDuplicated() throws Exception {
    ClusterOptions options = ClusterTesting.options(ClusterHealIT.class, FREEZE_PORT);
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      try {
        for (String node : NODES) {
          nodes.startNode(node, conf(options, node));
        }
        scenario("frozen node (SIGSTOP 15 s, SIGCONT)", nodes, new ClusterOptions(options).setLiteMember(true),
          new Fault() {
            @Override
            public void cut(String node) throws Exception {
              signal(nodes.process(node), "STOP");
            }

            @Override
            public void heal(String node) throws Exception {
              signal(nodes.process(node), "CONT");
            }
          });
      } catch (Throwable t) {
        nodes.dump();
        throw t;
      }
    }
  }

  @Test
  @Timeout(value = TEST_MINUTES, unit = TimeUnit.MINUTES)
  void aNodeCutOffByAPartitionFor15sIsListedAgainAndRunsWhatThePlacementSaysWithNoRecordLostOrDuplicated()
    throws Exception {
    String why = NetNamespaces.unavailable();
    Assumptions.assumeTrue(why == null, "skipped: " + why);
    // Closed in reverse: the node JVMs end before their namespaces go.
    try (NetNamespaces net = NetNamespaces.create(NODES.size()); NodeProcesses nodes = new NodeProcesses(dir)) {
      try {
        List<String> members = new ArrayList<>();
        for (int i = 1; i <= NODES.size(); i++) {
          members.add(net.address(i));
        }
        members.add(net.rootAddress());
        ClusterOptions base = ClusterTesting.options(ClusterHealIT.class, PARTITION_PORT).setPortCount(1)
          .setMembers(members);
        for (int i = 1; i <= NODES.size(); i++) {
          nodes.startNode(NODES.get(i - 1), conf(new ClusterOptions(base).setHost(net.address(i)), NODES.get(i - 1)),
            List.of(), net.exec(i), net.address(i));
        }
        scenario("partition (link down 15 s, up)", nodes,
          new ClusterOptions(base).setHost(net.rootAddress()).setLiteMember(true), new Fault() {
            @Override
            public void cut(String node) throws Exception {
              net.cut(NODES.indexOf(node) + 1);
            }

            @Override
            public void heal(String node) throws Exception {
              net.heal(NODES.indexOf(node) + 1);
            }
          });
      } catch (Throwable t) {
        nodes.dump();
        throw t;
      }
    }
  }

  private static void signal(Process process, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    assertThat(kill.waitFor()).as("kill -%s %d", signal, process.pid()).isZero();
  }

  private void scenario(String name, NodeProcesses nodes, ClusterOptions client, Fault fault) throws Exception {
    long start = System.nanoTime();
    for (String node : NODES) {
      nodes.awaitReady(node, client.getClusterName(), ENV, READY_TIMEOUT);
    }
    ClusterEnvironment env = ClusterEnvironment.create(client, ENV).await();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> env.nodes().await().size() == NODES.size());
      LOG.info("{}: 3 nodes ready after {} ms", name, millisSince(start));
      env.registerService("echo", EchoService.class, new ServiceOptions()
        .setInstances(2)
        .setRetryable(true)
        .setTimeout(Duration.ofSeconds(30))
        .setRetryPolicy(new RetryPolicy().setMaxAttempts(100).setAttemptTimeout(Duration.ofMillis(500))));

      AtomicIntegerArray seen = new AtomicIntegerArray(MAX_RECORDS);
      AtomicInteger produced = new AtomicInteger();
      AtomicInteger done = new AtomicInteger();
      AtomicBoolean finish = new AtomicBoolean();
      env.fromBatch(new BatchFunction<Integer>() {
          @Override
          public Integer execute() {
            int next = produced.get();
            if (finish.get() || next >= MAX_RECORDS) {
              return null;
            }
            return produced.getAndIncrement();
          }
        })
        .map(new MapFunction<Integer, Integer>() {
          @Override
          public Integer execute(Integer value) {
            return callService("echo", value);
          }
        }, 8)
        .sink(value -> {
          seen.incrementAndGet(value);
          done.incrementAndGet();
        });
      Job job = env.submit().await();

      await().atMost(Duration.ofSeconds(60)).until(() -> done.get() >= 5_000);
      Map<String, Integer> before = placed(env);
      String victim = before.keySet().iterator().next();
      LOG.info("{}: placement {}; cutting {} off after {} records", name, before, victim, done.get());
      long cutAt = System.nanoTime();
      fault.cut(victim);
      // The rest of the cluster drops it and re-places its replica: two on the others.
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
        Map<String, Integer> now = placed(env);
        return !now.containsKey(victim) && sum(now) == 2;
      });
      long droppedMs = millisSince(cutAt);
      LOG.info("{}: {} dropped and its replica re-placed after {} ms: {}", name, victim, droppedMs, placed(env));
      // The fault lasts its full time from the cut, whatever the drop took.
      await().atMost(FAULT.plusSeconds(60)).pollInterval(Duration.ofMillis(50))
        .until(() -> millisSince(cutAt) >= FAULT.toMillis());
      long healedAt = System.nanoTime();
      fault.heal(victim);
      AtomicLong mergedMs = new AtomicLong(-1);
      await().atMost(HEAL_TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
        if (SagebusCluster.hazelcast(env.vertx()).getCluster().getMembers().size() == NODES.size() + 1) {
          mergedMs.compareAndSet(-1, millisSince(healedAt));
          return agrees(env, victim);
        }
        return false;
      });
      long correctMs = millisSince(healedAt);
      Map<String, Integer> after = placed(env);
      LOG.info("{}: {} back; placement {} agrees with the agents {} ms after healing", name, victim, after, correctMs);
      long stopAt = System.nanoTime();
      await().atMost(AFTER_HEAL.plusSeconds(60)).pollInterval(Duration.ofMillis(50))
        .until(() -> millisSince(stopAt) >= AFTER_HEAL.toMillis());
      finish.set(true);
      JobResult result;
      try {
        result = job.completion().await(JOB_END_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("the job did not end within " + JOB_END_TIMEOUT + " of its last record; "
          + done.get() + " of " + produced.get() + " records through; open: " + env.openResources(), e);
      }

      int records = produced.get();
      int lost = 0;
      int duplicated = 0;
      for (int i = 0; i < records; i++) {
        int n = seen.get(i);
        if (n == 0) {
          lost++;
        } else if (n > 1) {
          duplicated++;
        }
      }
      System.out.printf("ClusterHealIT %s: node %s dropped after %d ms; merged back %d ms after healing; placement "
          + "correct (node listed, records == running replicas, 2 in all) %d ms after healing; %,d records, %d lost, "
          + "%d duplicated; job %s in %d ms%n", name, victim, droppedMs, mergedMs.get(), correctMs, records, lost,
        duplicated, result.status(), result.duration().toMillis());
      assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(lost).as("records lost").isZero();
      assertThat(duplicated).as("records duplicated").isZero();
      assertThat(done.get()).isEqualTo(records);
      assertThat(env.nodes().await().stream().map(o -> ((JsonObject) o).getString("node"))).containsExactlyElementsOf(NODES);

      // The job owned the service: once it ended, no node runs a replica of it.
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> env.placements().await().isEmpty() && NODES.stream().allMatch(n -> running(env, n) == 0));
    } finally {
      env.close().await();
    }
  }

  /** {@return whether the node is listed, and every agent runs what the placement record says, two in all} */
  private static boolean agrees(ClusterEnvironment env, String victim) {
    boolean listed = env.nodes().await().stream().anyMatch(o -> victim.equals(((JsonObject) o).getString("node")));
    if (!listed) {
      return false;
    }
    Map<String, Integer> placed = placed(env);
    if (sum(placed) != 2) {
      return false;
    }
    Map<String, Integer> running = new TreeMap<>();
    for (String node : NODES) {
      int n = running(env, node);
      if (n < 0) {
        return false;
      }
      if (n > 0) {
        running.put(node, n);
      }
    }
    LOG.debug("placed {}, running {}", placed, running);
    return running.equals(placed);
  }

  /** {@return the replicas of echo a node's agent runs, or -1 when it does not answer} */
  private static int running(ClusterEnvironment env, String node) {
    try {
      return env.vertx().eventBus().<JsonObject>request(NodeAgentVerticle.address(ENV, node),
          NodeAgentVerticle.listRequest(), new DeliveryOptions().setSendTimeout(3_000))
        .await().body().getJsonObject("services").getInteger("echo", 0);
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private static Map<String, Integer> placed(ClusterEnvironment env) {
    JsonArray all = env.placements().await();
    Map<String, Integer> out = new TreeMap<>();
    for (Object o : all) {
      JsonObject p = (JsonObject) o;
      if ("echo".equals(p.getString("service"))) {
        p.getJsonObject("nodes").forEach(e -> out.put(e.getKey(), ((Number) e.getValue()).intValue()));
      }
    }
    return out;
  }

  private static int sum(Map<String, Integer> placed) {
    return placed.values().stream().mapToInt(Integer::intValue).sum();
  }
}
