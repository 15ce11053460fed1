package io.sagebus.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.sagebus.EnvironmentOptions;
import io.sagebus.Job;
import io.sagebus.JobStatus;
import io.sagebus.LocalEnvironment;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Per-job and per-operator meters while a job runs, removed when it ends; the jobs health procedure. */
class JobOpsTest {

  private LocalEnvironment env;

  @AfterEach
  void tearDown() {
    if (env != null) {
      env.close().await();
    }
  }

  @Test
  void aRunningJobHasOperatorMetersThatGoWhenItEndsAndItsEndIsCounted() throws Exception {
    env = LocalEnvironment.create("jobops", new EnvironmentOptions().setMetricsEnabled(true));
    MeterRegistry registry = SagebusMetrics.registry(env.vertx());
    CountDownLatch release = new CountDownLatch(1);
    env.fromBatch(IntStream.range(0, 10).boxed().toList())
      .map(x -> x * 2).name("double")
      .sink(x -> {
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    Job job = env.submit().await();

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      var in = registry.find("sagebus.operator.records.in").tags("env", "jobops", "job", job.id(), "operator", "double")
        .functionCounter();
      assertThat(in).isNotNull();
      assertThat(in.count()).isEqualTo(10);
    });
    assertThat(registry.find("sagebus.job.running").tags("job", job.id()).gauge()).isNotNull();
    assertThat(SagebusMetrics.scrape(env.vertx()))
      .contains("sagebus_operator_records_out_total{env=\"jobops\",job=\"" + job.id() + "\",operator=\"double\"}");

    release.countDown();
    assertThat(job.completion().await().status()).isEqualTo(JobStatus.COMPLETED);
    await().atMost(Duration.ofSeconds(10)).until(() -> registry.find("sagebus.job.running").gauge() == null);
    assertThat(registry.find("sagebus.operator.records.in").tags("job", job.id()).functionCounter()).isNull();
    assertThat(registry.find("sagebus.jobs.finished").tags("env", "jobops", "status", "completed").counter().count())
      .isEqualTo(1);
  }

  @Test
  void theJobsProcedureGoesDownWhenAJobFailsWithoutTouchingReadiness() {
    env = LocalEnvironment.create("jobhealth");
    SagebusHealth health = SagebusHealth.create(env);
    env.fromBatch(List.of(1, 2, 3)).map(x -> x).sink(x -> { });
    env.submit().await().completion().await();
    assertThat(jobs(health).getString("status")).isEqualTo("UP");

    env.fromBatch(List.of(1, 2, 3)).map(x -> {
      if (x == 2) {
        throw new IllegalStateException("two");
      }
      return x;
    }).sink(x -> { });
    Job failing = env.submit().await();
    failing.completion().otherwiseEmpty().await();
    assertThat(failing.status()).isEqualTo(JobStatus.FAILED);

    JsonObject jobs = jobs(health);
    assertThat(jobs.getString("status")).isEqualTo("DOWN");
    assertThat(jobs.getJsonObject("data").getJsonObject("counts").getMap())
      .containsEntry("completed", 1).containsEntry("failed", 1);
    CheckResult ready = health.readiness().checkStatus().await();
    assertThat(ready.getUp()).isTrue();
  }

  private static JsonObject jobs(SagebusHealth health) {
    CheckResult all = health.all().checkStatus().await();
    for (Object o : all.toJson().getJsonArray("checks")) {
      JsonObject check = (JsonObject) o;
      if ("jobs".equals(check.getString("id"))) {
        return check;
      }
    }
    throw new AssertionError("no jobs procedure in " + all.toJson());
  }
}
