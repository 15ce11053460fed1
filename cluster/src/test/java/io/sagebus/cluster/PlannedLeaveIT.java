package io.sagebus.cluster;

import io.sagebus.Job;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.sagebus.cluster.ClusterTesting.placement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Planned leaves under a running job, with no retry policy (the service is not retryable): three
 * node JVMs, a service with two replicas, 8 operator instances calling it; the node holding a
 * replica that is the oldest member gets SIGTERM at 20% of the records, then a second node holding a
 * replica at 50%. Each leaving node's replicas refuse what reaches them (LEAVING) until the
 * others no longer route to them, and the callers send those calls elsewhere: the job completes
 * with every record once and no call failed.
 */
class PlannedLeaveIT {

  private static final Logger LOG = LoggerFactory.getLogger(PlannedLeaveIT.class);
  /** This class's own port range: 15981 to 16000. */
  private static final int FIRST_PORT = 15981;
  private static final String ENV = "leave";
  private static final int RECORDS = 60_000;
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  private static final Pattern REFUSED = Pattern.compile("replica\\(s\\) of 'echo' leaving: (\\d+) call\\(s\\) refused");

  @TempDir
  Path dir;

  @Test
  void sigtermOfNodesUnderARunningJobFailsNoCallWithoutARetryPolicy() throws Exception {
    ClusterOptions options = ClusterTesting.options(PlannedLeaveIT.class, FIRST_PORT);
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      nodes.dumpOnFailure(() -> run(options, nodes));
    }
  }

  private void run(ClusterOptions options, NodeProcesses nodes) throws Exception {
    ClusterTesting.startEchoNodesInOrder(nodes, options, ENV, NODES);
    ClusterEnvironment env = ClusterTesting.liteEnvironment(options, ENV, NODES.size());
    try {
      // Not retryable, no RetryPolicy: only the leave's refusals may send a call again.
      env.registerService("echo", EchoService.class, new ServiceOptions().setInstances(2));
      SinkWatch sink = new SinkWatch(RECORDS);
      Job job = ClusterTesting.echoJob(env, RECORDS, sink);
      assertThat(placement(env)).as("the replicas go to the nodes of smallest ids").containsOnlyKeys("n1", "n2");

      List<String> left = new ArrayList<>();
      for (int percent : new int[]{20, 50}) {
        await().atMost(Duration.ofMinutes(3)).until(() -> sink.done() >= RECORDS * percent / 100);
        String leaving = placement(env).keySet().stream().sorted().findFirst().orElseThrow();
        LOG.info("SIGTERM to {} after {} records; placement {}", leaving, sink.done(), placement(env));
        sink.mark();
        long t0 = System.nanoTime();
        NodeProcesses.stop(nodes.process(leaving));
        // 143 = 128 + SIGTERM: the JVM ran its shutdown hooks and ended; a kill would give 137.
        assertThat(nodes.process(leaving).exitValue()).as("exit code of " + leaving + " after SIGTERM").isEqualTo(143);
        LOG.info("{} left in {} ms, {} records done", leaving, ClusterTesting.millisSince(t0), sink.done());
        left.add(leaving);
      }
      JobResult result = job.completion().await();
      assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(result.errors()).isEmpty();
      sink.assertEveryRecordOnce();

      int refused = 0;
      for (String node : left) {
        Matcher m = REFUSED.matcher(Files.readString(nodes.out(node)));
        assertThat(m.find()).as("the leave line of " + node).isTrue();
        refused += Integer.parseInt(m.group(1));
      }
      System.out.printf("PlannedLeaveIT: %,d records, SIGTERM of %s at 20%% and 50%%: %d calls refused by leaving "
          + "replicas and sent elsewhere, 0 failed; longest sink stall after the first SIGTERM %d ms (before it %d ms); "
          + "job %d ms%n", RECORDS, left, refused, sink.longestStallMillis(), sink.longestGapBeforeMarkMillis(),
        result.duration().toMillis());
      // How many calls reach a leaving replica depends on how fast the other members' views catch up: on an idle
      // machine none may (CI saw 0), under load some do. It is printed above; what must hold is asserted before.
      assertThat(refused).as("calls that reached a leaving replica (and ran elsewhere)").isNotNegative();
    } finally {
      env.close().await();
    }
  }
}
