package io.sagebus.cluster;

import io.sagebus.CallOptions;
import io.sagebus.Job;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.MapFunction;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.EchoServiceV2;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
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
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.sagebus.cluster.ClusterTesting.millisSince;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Rolling replacement with node JVMs: n1 and n2 hold {@code echo} as {@link EchoService}, n3 as
 * {@link EchoServiceV2} (a node started with a new version of the service). This JVM, a lite member,
 * registers {@code echo} with two replicas and runs jobs through {@code map(callService("echo"), 8)}
 * while it redeploys the service: with new options (the replicas on n1 and n2 replaced in place), with
 * the new class (the replicas move to n3), and back to the first class with a retry policy. The replicas
 * serving, sampled throughout, never fall under two nor pass three (one at a time); every job completes
 * with every record once and no failed call, with and without a retry policy.
 */
class RollingReplacementIT {

  private static final Logger LOG = LoggerFactory.getLogger(RollingReplacementIT.class);
  /** This class's own port range: 16421 to 16440. */
  private static final int FIRST_PORT = 16421;
  private static final String ENV = "rolling";
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  /** The count in a node's line about replicas that left (either way an agent drains them). */
  private static final Pattern REFUSED = Pattern.compile("(\\d+) call\\(s\\) refused");
  /** Records that reach the sink between two steps of a test: the job runs through each redeploy. */
  private static final int BETWEEN = 3_000;

  @TempDir
  Path dir;

  @Test
  void redeploysUnderRunningJobsReplaceReplicasOneAtATimeAndFailNoCall() throws Exception {
    ClusterOptions options = ClusterTesting.options(RollingReplacementIT.class, FIRST_PORT);
    long start = System.nanoTime();
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      nodes.dumpOnFailure(() -> run(options, nodes));
    } finally {
      LOG.info("rolling replacement test done after {} ms", millisSince(start));
    }
  }

  private void run(ClusterOptions options, NodeProcesses nodes) throws Exception {
    for (String node : NODES) {
      Class<?> echo = "n3".equals(node) ? EchoServiceV2.class : EchoService.class;
      nodes.startNode(node, new JsonObject()
        .put("cluster", options.toJson())
        .put("environment", ENV)
        .put("nodeId", node)
        .put("services", new JsonObject().put("echo", new JsonObject().put("class", echo.getName()))));
      nodes.awaitReady(node, options.getClusterName(), ENV);
    }
    ClusterEnvironment env = ClusterTesting.liteEnvironment(options, ENV, NODES.size());
    Sampler sampler = new Sampler(env);
    try {
      // Not retryable, no RetryPolicy: only the leaves' refusals may send a call again.
      env.registerService("echo", EchoService.class, new ServiceOptions().setInstances(2));
      env.deploy("echo").await();
      assertThat(sampler.versions()).isEqualTo(Map.of("n1", Map.of(1, 1), "n2", Map.of(1, 1)));
      sampler.start();

      EndlessSource source = new EndlessSource();
      SinkWatch sink = new SinkWatch(5_000_000);
      Job job = submit(env, source, sink);
      awaitRecords(sink, BETWEEN);
      long t0 = System.nanoTime();
      env.redeploy("echo", new ServiceOptions().setInstances(2)).await();
      LOG.info("redeploy with new options: {} ms, {} records done", millisSince(t0), sink.done());
      assertThat(sampler.versions()).as("replaced in place").isEqualTo(Map.of("n1", Map.of(2, 1), "n2", Map.of(2, 1)));
      awaitRecords(sink, sink.done() + BETWEEN);
      t0 = System.nanoTime();
      env.redeploy("echo", EchoServiceV2.class, new ServiceOptions().setInstances(2)).await();
      LOG.info("redeploy with a new class: {} ms, {} records done", millisSince(t0), sink.done());
      assertThat(sampler.versions()).as("moved to the node with the new class").isEqualTo(Map.of("n3", Map.of(3, 2)));
      awaitRecords(sink, sink.done() + BETWEEN);
      JobResult result = finish(job, source);
      assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(result.errors()).as("failed calls, no retry policy").isEmpty();
      sink.assertEveryRecordOnce(source.made());
      assertThat(env.services().<Integer>call("echo", CallOptions.method("version"))).isEqualTo(2);

      // Back to the first class, now with a retry policy.
      EndlessSource again = new EndlessSource();
      SinkWatch sink2 = new SinkWatch(5_000_000);
      Job job2 = submit(env, again, sink2);
      awaitRecords(sink2, BETWEEN);
      t0 = System.nanoTime();
      env.redeploy("echo", EchoService.class, new ServiceOptions().setInstances(2).setRetryable(true)
        .setRetryPolicy(new RetryPolicy().setMaxAttempts(5).setAttemptTimeout(Duration.ofMillis(500)))).await();
      LOG.info("redeploy back, with a retry policy: {} ms, {} records done", millisSince(t0), sink2.done());
      assertThat(sampler.versions()).isEqualTo(Map.of("n1", Map.of(4, 1), "n2", Map.of(4, 1)));
      awaitRecords(sink2, sink2.done() + BETWEEN);
      JobResult result2 = finish(job2, again);
      assertThat(result2.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(result2.errors()).as("failed calls, retry policy").isEmpty();
      sink2.assertEveryRecordOnce(again.made());

      sampler.stop();
      int refused = 0;
      for (String node : NODES) {
        Matcher m = REFUSED.matcher(Files.readString(nodes.out(node)));
        while (m.find()) {
          refused += Integer.parseInt(m.group(1));
        }
      }
      System.out.printf("RollingReplacementIT: three redeploys under running jobs (%,d and %,d records): replicas "
          + "serving between %d and %d (%d samples), %d calls refused by leaving replicas and sent elsewhere, 0 failed, "
          + "every record once; longest sink stall %d ms and %d ms%n", source.made(), again.made(), sampler.least(),
        sampler.most(), sampler.samples(), refused, sink.longestStallMillis(), sink2.longestStallMillis());
      assertThat(sampler.least()).as("replicas serving at the least").isEqualTo(2);
      // A third replica runs only between a new one's start and the old one's leave: the samples may miss it.
      assertThat(sampler.most()).as("replicas running at the most: one new at a time").isBetween(2, 3);
      assertThat(Files.readString(nodes.out("n3"))).contains("deployed 1 replica(s) of 'echo' (version 3)");
    } finally {
      sampler.stop();
      env.close().await();
    }
  }

  private static void awaitRecords(SinkWatch sink, int records) {
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(50)).until(() -> sink.done() >= records);
  }

  private static Job submit(ClusterEnvironment env, EndlessSource source, SinkWatch sink) {
    env.fromBatch(source)
      .map(new MapFunction<Integer, Integer>() {
        @Override
        public Integer execute(Integer value) {
          return callService("echo", value);
        }
      }, 8)
      .sink(sink);
    sink.mark();
    return env.submit().await();
  }

  private static JobResult finish(Job job, EndlessSource source) {
    source.stop();
    return job.completion().await();
  }

  /** Asks the node agents, every 20 ms on a thread of its own, how many replicas of echo they run. */
  private static final class Sampler {
    private final ClusterEnvironment env;
    private final AtomicBoolean sampling = new AtomicBoolean();
    private final AtomicInteger least = new AtomicInteger(Integer.MAX_VALUE);
    private final AtomicInteger most = new AtomicInteger();
    private final AtomicInteger samples = new AtomicInteger();
    private Thread thread;

    Sampler(ClusterEnvironment env) {
      this.env = env;
    }

    /** {@return the replicas of echo per node, by version; the agents are asked at once} */
    Map<String, Map<Integer, Integer>> versions() {
      Map<String, Future<Message<JsonObject>>> asked = new TreeMap<>();
      for (String node : NODES) {
        asked.put(node, env.vertx().eventBus().request(NodeAgentVerticle.address(ENV, node),
          NodeAgentVerticle.listRequest(), new DeliveryOptions().setSendTimeout(10_000)));
      }
      Map<String, Map<Integer, Integer>> out = new TreeMap<>();
      for (Map.Entry<String, Future<Message<JsonObject>>> answer : asked.entrySet()) {
        String node = answer.getKey();
        JsonObject list = answer.getValue().await().body();
        JsonObject echo = list.getJsonObject("versions").getJsonObject("echo");
        if (echo != null) {
          Map<Integer, Integer> byVersion = new TreeMap<>();
          echo.forEach(e -> byVersion.put(Integer.parseInt(e.getKey()), (Integer) e.getValue()));
          out.put(node, byVersion);
        }
      }
      return out;
    }

    void start() {
      sampling.set(true);
      thread = Thread.ofVirtual().start(() -> {
        while (sampling.get()) {
          try {
            // Counted only when two rounds agree: a round's answers are not one instant, a step could fall between.
            Map<String, Map<Integer, Integer>> first = versions();
            if (!first.equals(versions())) {
              continue;
            }
            int running = first.values().stream().flatMap(m -> m.values().stream()).mapToInt(Integer::intValue).sum();
            least.accumulateAndGet(running, Math::min);
            most.accumulateAndGet(running, Math::max);
            samples.incrementAndGet();
            env.vertx().timer(20, TimeUnit.MILLISECONDS).await(); // the pace of the samples, on a Vert.x timer
          } catch (RuntimeException e) {
            if (!sampling.get()) {
              return;
            }
            LOG.warn("sampling the replicas failed", e);
          }
        }
      });
    }

    void stop() throws InterruptedException {
      sampling.set(false);
      if (thread != null) {
        thread.join(Duration.ofSeconds(30));
      }
    }

    int least() {
      return least.get();
    }

    int most() {
      return most.get();
    }

    int samples() {
      return samples.get();
    }
  }
}
