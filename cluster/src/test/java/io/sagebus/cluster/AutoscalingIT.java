package io.sagebus.cluster;

import io.sagebus.AutoscalePolicy;
import io.sagebus.CallOptions;
import io.sagebus.Job;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.MapFunction;
import io.sagebus.ServiceOptions;
import io.sagebus.testing.SlowService;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.sagebus.cluster.ClusterTesting.millisSince;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two node JVMs from the built jar and a client (a lite member) registering autoscaled services:
 * a load step grows the replicas to what the policy asks for, never past its max; once the load
 * ends they shrink back to its min, not before the downscale delay, and a job that runs through the
 * growth and the drains (no retry policy) fails no call and sees every record once; a service at min 0 has no
 * replica until a call starts one, which then succeeds; only the oldest member (node-1) decides.
 */
class AutoscalingIT {

  private static final Logger LOG = LoggerFactory.getLogger(AutoscalingIT.class);
  /** This class's own port range: 16161 to 16180. */
  private static final int FIRST_PORT = 16161;
  private static final String ENV = "elastic";
  private static final Duration DOWNSCALE = Duration.ofSeconds(4);
  /** Seconds on an idle machine; room for a loaded one. */
  private static final Duration SCALE_TIMEOUT = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  private static JsonObject conf(ClusterOptions options, String nodeId) {
    JsonObject slow = new JsonObject().put("class", SlowService.class.getName())
      .put("options", new JsonObject().put("maxConcurrency", 1).put("maxQueued", 10_000));
    return new JsonObject()
      .put("cluster", options.toJson())
      .put("environment", ENV)
      .put("nodeId", nodeId)
      .put("services", new JsonObject().put("slow", slow.copy()).put("slow0", slow.copy()));
  }

  @Test
  void replicasFollowTheLoadWithinTheBoundsAndFromZero() throws Exception {
    ClusterOptions options = ClusterTesting.options(AutoscalingIT.class, FIRST_PORT);
    long start = System.nanoTime();
    try {
      NodeProcesses.runLoggingOnFailure(dir, nodes -> run(options, nodes));
    } finally {
      LOG.info("autoscaling test done after {} ms", millisSince(start));
    }
  }

  private void run(ClusterOptions options, NodeProcesses nodes) throws Exception {
    // node-1 first, so that it is the oldest member: the one that decides.
    nodes.startNode("node-1", conf(options, "node-1"));
    nodes.awaitReady("node-1", options.getClusterName(), ENV);
    nodes.startNode("node-2", conf(options, "node-2"));
    nodes.awaitReady("node-2", options.getClusterName(), ENV);

    ClusterEnvironment env = ClusterEnvironment.create(new ClusterOptions(options).setLiteMember(true), ENV).await();
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> env.nodes().await().size() == 2);
      loadStep(env);
      fromZero(env);
      assertThat(Files.readString(nodes.out("node-1"))).contains("scaling 'slow' from 1 to 3 replicas")
        .containsPattern("scaling 'slow' from [23] to 1 replicas").contains("scaling 'slow0' from 0 to 1 replicas")
        .contains("scaling 'slow0' from 1 to 0 replicas");
      assertThat(Files.readString(nodes.out("node-2"))).as("node-2 is not the oldest: it never decides")
        .doesNotContain("scaling '");
    } finally {
      env.close().await();
    }
  }

  private void loadStep(ClusterEnvironment env) throws Exception {
    // 1 call in flight per replica wanted, 1 to 3 replicas: 8 callers ask for 8, so 3.
    env.registerService("slow", SlowService.class, new ServiceOptions().setAutoscale(AutoscalePolicy.create(1, 3, 1)
      .setUpscaleDelay(Duration.ofSeconds(1)).setDownscaleDelay(DOWNSCALE)));
    env.deploy("slow").await();
    assertThat(wanted(env, "slow")).isEqualTo(1);
    assertThat(running(env, "slow")).isEqualTo(1);

    AtomicBoolean loading = new AtomicBoolean(true);
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    CallOptions call = CallOptions.create().timeout(Duration.ofSeconds(30));
    List<Thread> callers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      callers.add(Thread.ofVirtual().start(() -> {
        while (loading.get()) {
          try {
            env.services().call("slow", call, 20L);
            calls.incrementAndGet();
          } catch (RuntimeException e) {
            failures.incrementAndGet();
            firstFailure.compareAndSet(null, e);
          }
        }
      }));
    }
    // A job that runs through the scale-down: one operator instance, one call at a time, so the policy wants 1.
    EndlessSource source = new EndlessSource();
    SinkWatch sink = new SinkWatch(5_000_000);
    env.fromBatch(source)
      .map(new MapFunction<Integer, Integer>() {
        @Override
        public Integer execute(Integer value) {
          callService("slow", 5L);
          return value;
        }
      }, 1)
      .sink(sink);
    Job job = env.submit().await();
    int most = 0;
    try {
      long grow = System.nanoTime();
      AtomicInteger seen = new AtomicInteger();
      await("3 replicas under the load").atMost(SCALE_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> {
        seen.accumulateAndGet(wanted(env, "slow"), Math::max);
        return running(env, "slow") == 3;
      });
      LOG.info("3 replicas of 'slow' running {} ms after the load began", millisSince(grow));
      // The load goes on: the count stays at max, never above.
      await("3 s more at 3 replicas").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200)).until(() -> {
          seen.accumulateAndGet(wanted(env, "slow"), Math::max);
          seen.accumulateAndGet(running(env, "slow"), Math::max);
          return true;
        });
      most = seen.get();
    } finally {
      loading.set(false);
      for (Thread t : callers) {
        t.join(Duration.ofSeconds(40));
      }
    }
    assertThat(most).as("never above max").isEqualTo(3);
    assertThat(failures.get()).as("failed calls (first: %s)", firstFailure.get()).isZero();
    assertThat(calls.get()).isPositive();

    long ended = System.nanoTime();
    AtomicInteger least = new AtomicInteger(3);
    await("back to 1 replica once the load ended").atMost(SCALE_TIMEOUT).pollInterval(Duration.ofMillis(200))
      .until(() -> {
        int now = wanted(env, "slow"); // read once: the scale-down may land between two reads
        least.accumulateAndGet(now, Math::min);
        return now == 1 && running(env, "slow") == 1;
      });
    long shrankAfter = millisSince(ended);
    LOG.info("'slow' back to 1 replica {} ms after the load ended", shrankAfter);
    int before = sink.done();
    await("the job going on after the scale-down").atMost(SCALE_TIMEOUT).until(() -> sink.done() >= before + 20);
    source.stop();
    JobResult result = job.completion().await();
    assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(result.errors()).as("calls failed by the drains").isEmpty();
    sink.assertEveryRecordOnce(source.made());
    LOG.info("a job of {} records ran through the scale-up and the scale-down: every record once, no call failed",
      source.made());
    assertThat(shrankAfter).as("not before the downscale delay").isGreaterThanOrEqualTo(DOWNSCALE.toMillis());
    assertThat(least.get()).as("never below min").isEqualTo(1);
    assertThat(env.services().<Number>call("slow", call, 1L).longValue()).isEqualTo(1L);
  }

  private void fromZero(ClusterEnvironment env) {
    env.registerService("slow0", SlowService.class, new ServiceOptions().setAutoscale(AutoscalePolicy.create(0, 2, 1)
      .setUpscaleDelay(Duration.ofSeconds(30)).setDownscaleDelay(Duration.ofSeconds(3))));
    env.deploy("slow0").await();
    assertThat(wanted(env, "slow0")).isZero();
    assertThat(running(env, "slow0")).isZero();

    long first = System.nanoTime();
    Number answer = env.services().call("slow0", CallOptions.create().timeout(Duration.ofSeconds(45)), 5L);
    LOG.info("the first call to 'slow0' (no replica) answered after {} ms", millisSince(first));
    assertThat(answer.longValue()).isEqualTo(5L);
    assertThat(wanted(env, "slow0")).isEqualTo(1);
    await("back to none without calls").atMost(SCALE_TIMEOUT).pollInterval(Duration.ofMillis(200))
      .until(() -> wanted(env, "slow0") == 0 && running(env, "slow0") == 0);
  }

  /** {@return the replicas the service's placement record wants} */
  private static int wanted(ClusterEnvironment env, String service) {
    return env.placements().await().stream().map(JsonObject.class::cast)
      .filter(p -> service.equals(p.getString("service"))).findFirst().orElseThrow().getInteger("replicas");
  }

  /** {@return the replicas of the service the node agents run, asked over the bus} */
  private static int running(ClusterEnvironment env, String service) {
    int n = 0;
    for (String node : List.of("node-1", "node-2")) {
      JsonObject list = env.vertx().eventBus().<JsonObject>request(NodeAgentVerticle.address(ENV, node),
        NodeAgentVerticle.listRequest()).await().body();
      n += list.getJsonObject("services").getInteger(service, 0);
    }
    return n;
  }
}
