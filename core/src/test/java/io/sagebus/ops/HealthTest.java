package io.sagebus.ops;

import io.sagebus.EnvironmentOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceLifecycle;
import io.sagebus.ServiceOptions;
import io.sagebus.ServiceTaskVerticle;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.LatchService;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.Status;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class HealthTest {

  /** Its start() waits for the test: the instance stays deploying. */
  public static class SlowStart implements ServiceLifecycle {
    private final CountDownLatch started;
    private final CountDownLatch release;

    SlowStart(CountDownLatch started, CountDownLatch release) {
      this.started = started;
      this.release = release;
    }

    @Override
    public void start() throws Exception {
      started.countDown();
      if (!release.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released start()");
      }
    }

    public String process(String v) {
      return v;
    }
  }

  private LocalEnvironment env;
  private SagebusHealth health;

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "health", new EnvironmentOptions());
    env.registerService("echo", EchoService.class).start().await();
    health = SagebusHealth.create(env);
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  private static boolean up(Future<CheckResult> check) {
    return Boolean.TRUE.equals(check.await().getUp());
  }

  @Test
  void aRunningServiceIsLiveAndReady() {
    assertThat(up(health.liveness().checkStatus())).isTrue();
    assertThat(up(health.readiness().checkStatus())).isTrue();
    assertThat(up(health.all().checkStatus())).isTrue();
    JsonObject ready = health.readiness().invoke("services/echo").await();
    assertThat(ready.getString("status")).isEqualTo("UP");
    assertThat(ready.getJsonObject("data")).isEqualTo(new JsonObject().put("running", 1).put("starting", 0).put("stopping", 0));
    JsonObject all = health.all().checkStatus().await().toJson();
    assertThat(all.encode()).contains("\"id\":\"live\"").contains("\"id\":\"ready\"").contains("\"id\":\"echo\"");
  }

  @Test
  void aServiceIsNotReadyWhileItDeploys() throws InterruptedException {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    env.registerService("slow", () -> new SlowStart(started, release));
    try {
      // Registered after the checks were made: it gets its procedures all the same.
      assertThat(up(health.readiness().checkStatus("services/slow"))).isTrue();
      Future<Void> deployed = env.deploy("slow");
      assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
      CheckResult ready = health.readiness().checkStatus("services/slow").await();
      assertThat(ready.getUp()).isFalse();
      assertThat(ready.getData().getInteger("starting")).isEqualTo(1);
      assertThat(ready.getData().getString("reason")).isEqualTo("deploying");
      assertThat(up(health.readiness().checkStatus())).isFalse();
      assertThat(up(health.liveness().checkStatus())).as("deploying is not dead").isTrue();
      release.countDown();
      deployed.await();
      assertThat(up(health.readiness().checkStatus("services/slow"))).isTrue();
    } finally {
      release.countDown();
    }
  }

  @Test
  void aServiceIsNotReadyWhileItStops() {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger inside = new AtomicInteger();
    env.registerService("latch", () -> new LatchService(release, inside, new AtomicInteger()),
      new ServiceOptions().setDrainTimeout(Duration.ofSeconds(60)));
    try {
      env.deploy("latch").await();
      Future<Object> call = env.services().callAsync("latch", "v");
      await().until(() -> inside.get() == 1);
      Future<Void> undeployed = env.undeploy("latch"); // drains: waits for the executing call
      await().until(() -> !up(health.readiness().checkStatus("services/latch")));
      CheckResult ready = health.readiness().checkStatus("services/latch").await();
      assertThat(ready.getData().getInteger("stopping")).isEqualTo(1);
      assertThat(ready.getData().getString("reason")).isEqualTo("stopping");
      release.countDown();
      assertThat(call.await()).isEqualTo("v");
      undeployed.await();
      CheckResult after = health.readiness().checkStatus("services/latch").await();
      assertThat(after.getUp()).isTrue();
      assertThat(after.getData().getInteger("running")).isZero();
    } finally {
      release.countDown();
    }
  }

  @Test
  void moreProceduresCanBeRegisteredAndCountForTheNode() {
    health.readiness().register("jobs/job-1", promise -> promise.complete(Status.KO(new JsonObject().put("why", "test"))));
    assertThat(up(health.readiness().checkStatus())).isFalse();
    assertThat(up(health.all().checkStatus())).isFalse();
    assertThat(health.all().checkStatus().await().toJson().encode()).contains("job-1");
    health.readiness().unregister("jobs/job-1");
    assertThat(up(health.readiness().checkStatus())).isTrue();
  }

  @Test
  void aNodeWithoutAnEnvironmentReportsTheReplicasItRuns(Vertx vertx) {
    SagebusHealth node = SagebusHealth.create(vertx, "node-env");
    assertThat(up(node.readiness().checkStatus())).isTrue();
    // A replica deployed by hand, as a node agent does: its service gets procedures when it deploys.
    String id = vertx.deployVerticle(new ServiceTaskVerticle("node-env", "echo", EchoService::new, new ServiceOptions()),
      new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)).await();
    CheckResult ready = node.readiness().checkStatus("services/echo").await();
    assertThat(ready.getUp()).isTrue();
    assertThat(ready.getData().getInteger("running")).isEqualTo(1);
    assertThat(up(node.liveness().checkStatus("services/echo"))).isTrue();
    assertThat(node.all().checkStatus().await().toJson().encode()).contains("\"id\":\"echo\"")
      .doesNotContain("\"id\":\"environment\"");
    vertx.undeploy(id).await();
    assertThat(node.readiness().checkStatus("services/echo").await().getData().getInteger("running")).isZero();
  }

  @Test
  void aClosedEnvironmentIsNeitherLiveNorReady() {
    env.close().await();
    assertThat(up(health.liveness().checkStatus("environment"))).isFalse();
    assertThat(up(health.readiness().checkStatus())).isFalse();
    assertThatThrownBy(() -> SagebusHealth.create(env)).isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("closed");
  }
}
