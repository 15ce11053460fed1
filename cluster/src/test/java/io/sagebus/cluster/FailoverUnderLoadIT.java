package io.sagebus.cluster;

import io.sagebus.Job;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.sagebus.cluster.ClusterTesting.placement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * kill -9 of the oldest member, which holds a replica, under a running job while another JVM keeps
 * the machine's cores busy (a second build, as far as the cluster can tell): three node JVMs, a
 * service with two replicas and the README's retry policy (5 attempts, 500 ms each), 8 operator
 * instances calling it. The job completes with every record once in the sink (0 lost, 0 duplicated),
 * and the new oldest member places the lost replica on the third node while it runs. Prints the
 * longest sink stall after the kill and the time until the replica count is back to two.
 */
class FailoverUnderLoadIT {

  private static final Logger LOG = LoggerFactory.getLogger(FailoverUnderLoadIT.class);
  /** This class's own port range: 16001 to 16020. */
  private static final int FIRST_PORT = 16001;
  private static final String ENV = "underload";
  private static final int RECORDS = Integer.getInteger("sagebus.failover.records", 30_000);
  /** Busy threads of the load JVM: two per core of this machine. */
  private static final int BUSY_THREADS = Integer.getInteger("sagebus.failover.busyThreads",
    2 * Runtime.getRuntime().availableProcessors());
  private static final List<String> NODES = List.of("n1", "n2", "n3");

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // beyond the ITs' 8 min: it loads the machine itself
  void killOfTheOldestMemberUnderLoadCostsTheJobNoRecord() throws Exception {
    ClusterOptions options = ClusterTesting.options(FailoverUnderLoadIT.class, FIRST_PORT);
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      nodes.dumpOnFailure(() -> run(options, nodes));
    }
  }

  private void run(ClusterOptions options, NodeProcesses nodes) throws Exception {
    ClusterTesting.startEchoNodesInOrder(nodes, options, ENV, NODES); // n1 is the oldest member
    ClusterEnvironment env = ClusterTesting.liteEnvironment(options, ENV, NODES.size());
    try {
      env.registerService("echo", EchoService.class, new ServiceOptions()
        .setInstances(2)
        .setRetryable(true)
        .setRetryPolicy(new RetryPolicy().setMaxAttempts(5).setAttemptTimeout(Duration.ofMillis(500))));
      SinkWatch sink = new SinkWatch(RECORDS);
      Job job = ClusterTesting.echoJob(env, RECORDS, sink);
      assertThat(placement(env)).as("the replicas go to the nodes of smallest ids").containsOnlyKeys("n1", "n2");

      Path classes = Path.of(CpuLoad.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      String java = ProcessHandle.current().info().command().orElseThrow();
      nodes.start("load", List.of(java, "-Xmx32m", "-XX:+UseSerialGC", "-cp", classes.toString(),
        CpuLoad.class.getName(), Integer.toString(BUSY_THREADS), Long.toString(ProcessHandle.current().pid())));
      await("the load JVM").atMost(Duration.ofSeconds(60)).until(() -> Files.readString(nodes.out("load")).contains("busy"));

      await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
        .conditionEvaluationListener(c -> {
          if (c.getElapsedTimeInMS() / 1000 % 10 == 0) {
            LOG.info("{} records through", sink.done()); // every 10 s: how slow the loaded machine is
          }
        })
        .until(() -> sink.done() >= RECORDS * 3 / 10);
      LOG.info("kill -9 of n1 (the oldest member) after {} records; placement {}", sink.done(), placement(env));
      sink.mark();
      long killedAt = System.nanoTime();
      LocalTime killedClock = LocalTime.now();
      nodes.process("n1").destroyForcibly();
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
        Map<String, Object> now = placement(env);
        return !now.containsKey("n1") && now.values().stream().mapToInt(n -> ((Number) n).intValue()).sum() == 2;
      });
      long replacedMs = ClusterTesting.millisSince(killedAt);
      LOG.info("placement after the kill: {} ({} ms), {} records done", placement(env), replacedMs, sink.done());

      JobResult result = job.completion().await();
      // The new oldest member logs when it found n1 gone (its log lines start with HH:mm:ss.SSS).
      long noticedMs = Files.readAllLines(nodes.out("n2")).stream()
        .filter(l -> l.contains("node n1 left the cluster without leaving")).findFirst()
        .map(l -> Duration.between(killedClock, LocalTime.parse(l.substring(0, 12))).toMillis()).orElse(-1L);
      double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
      System.out.printf("FailoverUnderLoadIT: %,d records, kill -9 of n1 (oldest member, a replica) after %,d with %d "
          + "busy threads in another JVM (load average %.1f): noticed by n2 after %d ms, replicas back to 2 after %d ms, "
          + "longest sink stall after the kill %d ms (before it %d ms), %d lost, %d duplicated; job %s in %d ms%n",
        RECORDS, RECORDS * 3 / 10, BUSY_THREADS, load, noticedMs, replacedMs, sink.longestStallMillis(),
        sink.longestGapBeforeMarkMillis(), sink.lost(), sink.duplicated(), result.status(), result.duration().toMillis());
      assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
      sink.assertEveryRecordOnce();
    } finally {
      env.close().await();
    }
  }
}
