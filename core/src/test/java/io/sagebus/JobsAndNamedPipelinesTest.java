package io.sagebus;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class JobsAndNamedPipelinesTest {

  private LocalEnvironment env;

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "jobs", new EnvironmentOptions());
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released the latch");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void progressCountsSourceAndSinkRecordsAndKnowsTheTotalOfACollection() {
    List<Integer> out = new CopyOnWriteArrayList<>();
    env.fromBatch(IntStream.range(0, 10).boxed().toList()).filter(x -> x % 2 == 0).sink(out::add);
    Job job = env.submit().await();
    job.completion().await();
    JobProgress p = job.progress();
    assertThat(p.jobId()).isEqualTo(job.id());
    assertThat(p.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(p.sourceRecords()).isEqualTo(10);
    assertThat(p.sinkRecords()).isEqualTo(5);
    assertThat(p.failedRecords()).isZero();
    assertThat(p.total()).isEqualTo(10);
    assertThat(p.fraction()).isEqualTo(1.0);
    assertThat(p.recordsInFlight()).isZero();
    assertThat(p.endedAt()).isNotNull().isAfterOrEqualTo(p.submittedAt());
    assertThat(p.operators()).extracting(OperatorStats::name)
      .containsExactly("batch#1(iterable)", "filter#2", "sink#3");
    assertThat(p.operators().get(1).recordsIn()).isEqualTo(10);
    assertThat(p.operators().get(1).recordsOut()).isEqualTo(5);
    assertThat(p.failure()).isNull();
  }

  @Test
  void progressMovesWhileTheJobRunsAndTheTotalOfAStreamIsUnknown() {
    CountDownLatch release = new CountDownLatch(1);
    env.fromBatch(Stream.of(1, 2, 3)).map(x -> {
      if (x == 2) {
        awaitQuietly(release);
      }
      return x;
    }).sink(x -> { });
    Job job = env.submit().await();
    await().until(() -> job.progress().sinkRecords() == 1);
    JobProgress running = job.progress();
    assertThat(running.status()).isEqualTo(JobStatus.RUNNING);
    assertThat(running.endedAt()).isNull();
    assertThat(running.total()).isEqualTo(-1);
    assertThat(running.fraction()).isEqualTo(-1);
    assertThat(running.recordsInFlight()).isPositive();
    assertThat(running.elapsed(Instant.now())).isPositive();
    release.countDown();
    job.completion().await();
    assertThat(job.progress().sinkRecords()).isEqualTo(3);
  }

  @Test
  void aFailedJobsProgressSaysWhy() {
    env.fromBatch(List.of(1, 2)).map(x -> {
      if (x == 2) {
        throw new IllegalArgumentException("two is bad");
      }
      return x;
    }).sink(x -> { });
    Job job = env.submit().await();
    assertThatThrownBy(() -> job.completion().await()).isInstanceOf(JobFailedException.class);
    JobProgress p = job.progress();
    assertThat(p.status()).isEqualTo(JobStatus.FAILED);
    assertThat(p.failedRecords()).isEqualTo(1);
    assertThat(p.failure()).contains("two is bad");
    assertThat(p.endedAt()).isNotNull();
  }

  @Test
  void progressRoundTripsThroughJson() {
    env.fromBatch(List.of("a", "b")).sink(x -> { });
    Job job = env.submit().await();
    job.completion().await();
    JobProgress p = job.progress();
    JobProgress back = JobProgress.fromJson(p.toJson());
    assertThat(back).isEqualTo(p);
    assertThat(p.toJson().getString("status")).isEqualTo("COMPLETED");
    assertThatThrownBy(() -> JobProgress.fromJson(new io.vertx.core.json.JsonObject().put("id", "x")))
      .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void progressShowsTheGraphAndWhereRecordsQueue() {
    CountDownLatch release = new CountDownLatch(1);
    DataStream<Integer> slow = env.fromBatch(IntStream.range(0, 50).boxed().toList()).map(x -> {
      awaitQuietly(release);
      if (x == 7) {
        throw new IllegalArgumentException("seven");
      }
      return x;
    }).name("slow");
    slow.sink(x -> { }).name("out");
    slow.failures().sink(f -> { }).name("failed");
    Job job = env.submit(new JobOptions().setQueueCapacity(4).setMaxRecordsInFlight(20)).await();
    // The slow operator holds one record; four more fill its queue, and the source waits.
    await().until(() -> job.progress().operators().get(1).queued() == 4);
    JobProgress p = job.progress();
    assertThat(p.operators()).extracting(OperatorStats::name).containsExactly("batch#1(iterable)", "slow", "out", "failed");
    assertThat(p.operators()).extracting(OperatorStats::kind).containsExactly("batch", "map", "sink", "sink");
    OperatorStats source = p.operators().get(0);
    assertThat(source.inputs()).isEmpty();
    assertThat(source.queueCapacity()).isZero();
    OperatorStats map = p.operators().get(1);
    assertThat(map.inputs()).containsExactly(0);
    assertThat(map.queueCapacity()).isEqualTo(4);
    assertThat(map.queueFill()).isEqualTo(1.0);
    assertThat(p.operators().get(2).inputs()).containsExactly(1);
    assertThat(p.operators().get(2).sideInputs()).isEmpty();
    assertThat(p.operators().get(2).queued()).isZero();
    assertThat(p.operators().get(3).inputs()).isEmpty();
    assertThat(p.operators().get(3).sideInputs()).containsExactly(1);
    assertThat(JobProgress.fromJson(p.toJson()).operators()).isEqualTo(p.operators());
    release.countDown();
    job.completion().await();
    JobProgress done = job.progress();
    assertThat(done.operators()).allSatisfy(o -> assertThat(o.queued()).isZero());
    assertThat(done.operators().get(3).recordsIn()).isEqualTo(1);
  }

  @Test
  void operatorStatsReadOlderJsonWithoutTheGraph() {
    OperatorStats old = OperatorStats.fromJson(new io.vertx.core.json.JsonObject().put("name", "map#2")
      .put("parallelism", 2).put("recordsIn", 5).put("recordsOut", 4).put("errors", 1));
    assertThat(old).isEqualTo(new OperatorStats("map#2", 2, 5, 4, 1));
    assertThat(old.inputs()).isEmpty();
    assertThat(old.queueFill()).isZero();
  }

  @Test
  void jobsListsRunningAndFinishedJobsAndFindsThemById() {
    CountDownLatch release = new CountDownLatch(1);
    env.fromBatch(List.of(1)).sink(x -> { });
    Job first = env.submit().await();
    first.completion().await();
    env.fromBatch(List.of(1)).map(x -> {
      awaitQuietly(release);
      return x;
    }).sink(x -> { });
    Job second = env.submit().await();
    assertThat(env.jobs()).extracting(Job::id).containsExactly(first.id(), second.id());
    assertThat(env.job(second.id())).containsSame(second);
    assertThat(env.job(second.id()).orElseThrow().status()).isEqualTo(JobStatus.RUNNING);
    assertThat(env.job("jobs-job-999")).isEmpty();
    assertThat(env.job(null)).isEmpty();
    release.countDown();
    second.completion().await();
    assertThat(env.jobs()).extracting(Job::status).containsExactly(JobStatus.COMPLETED, JobStatus.COMPLETED);
  }

  @Test
  void onlyTheLastHundredFinishedJobsAreKept() {
    for (int i = 0; i < 103; i++) {
      env.fromBatch(List.of(i)).sink(x -> { });
      env.submit().await().completion().await();
    }
    List<Job> jobs = env.jobs();
    assertThat(jobs).hasSize(100);
    assertThat(jobs.get(0).id()).isEqualTo("jobs-job-4");
    assertThat(jobs.get(99).id()).isEqualTo("jobs-job-103");
    assertThat(env.job("jobs-job-3")).isEmpty();
  }

  @Test
  void aNamedPipelineRunsByNameEveryTimeAfreshAndApartFromOtherOperators() {
    List<Integer> doubled = new CopyOnWriteArrayList<>();
    List<String> mine = new CopyOnWriteArrayList<>();
    env.registerPipeline("double", e -> e.fromBatch(List.of(1, 2, 3)).map(x -> x * 2).sink(doubled::add));
    env.registerPipeline("another", e -> e.fromBatch(List.of(0)).sink(x -> { }));
    assertThat(env.registeredPipelines()).containsExactly("another", "double");
    // Operators the user is building at the same time stay out of the named pipeline's job.
    env.fromBatch(List.of("mine")).sink(mine::add);
    Job run1 = env.runPipeline("double").await();
    assertThat(run1.completion().await().status()).isEqualTo(JobStatus.COMPLETED);
    Job run2 = env.runPipeline("double", new JobOptions().setMaxRecordsInFlight(1)).await();
    run2.completion().await();
    assertThat(run1.id()).isNotEqualTo(run2.id());
    assertThat(doubled).containsExactly(2, 4, 6, 2, 4, 6);
    assertThat(run2.progress().total()).isEqualTo(3);
    assertThat(mine).isEmpty();
    env.submit().await().completion().await();
    assertThat(mine).containsExactly("mine");
  }

  @Test
  void badNamedPipelinesFailClearly() {
    env.registerPipeline("ok", e -> e.fromBatch(List.of(1)).sink(x -> { }));
    assertThatThrownBy(() -> env.registerPipeline("ok", e -> { }))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already registered");
    assertThatThrownBy(() -> env.registerPipeline("bad name", e -> { }))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Bad pipeline name");
    assertThatThrownBy(() -> env.registerPipeline(null, e -> { }))
      .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> env.registerPipeline("nobuild", null))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be null");

    assertThatThrownBy(() -> env.runPipeline("missing").await())
      .isInstanceOf(PipelineNotFoundException.class).hasMessageContaining("missing").hasMessageContaining("[ok]");
    assertThatThrownBy(() -> env.runPipeline(null).await()).isInstanceOf(PipelineNotFoundException.class);

    env.registerPipeline("throws", e -> {
      throw new IllegalStateException("no input today");
    });
    assertThatThrownBy(() -> env.runPipeline("throws").await())
      .isInstanceOf(IllegalStateException.class).hasMessageContaining("'throws'").hasMessageContaining("no input today");

    env.registerPipeline("empty", e -> { });
    assertThatThrownBy(() -> env.runPipeline("empty").await())
      .isInstanceOf(IllegalStateException.class).hasMessageContaining("built nothing");

    env.registerPipeline("nosink", e -> e.fromBatch(List.of(1)).map(x -> x));
    assertThatThrownBy(() -> env.runPipeline("nosink").await())
      .isInstanceOf(IllegalStateException.class).hasMessageContaining("not consumed");

    List<Throwable> submitFailures = new CopyOnWriteArrayList<>();
    env.registerPipeline("submits", e -> {
      e.fromBatch(List.of(1)).sink(x -> { });
      e.submit().onFailure(submitFailures::add);
    });
    env.runPipeline("submits").await().completion().await();
    assertThat(submitFailures).singleElement().extracting(Throwable::getMessage).asString()
      .contains("must not submit");
  }
}
