package io.sagebus;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * {@link Environment#redeploy(String, ServiceOptions)} in one JVM: the instances are replaced one at a
 * time, each new one serving before an old one leaves, and a job running through it (no retry policy)
 * fails no call and sees every record once.
 */
@ExtendWith(VertxExtension.class)
class RollingRedeployTest {

  /** The instances' lives, in the order their hooks ran: {@code +v} started, {@code -v} stopped (v: version). */
  static final class Lives {
    final List<Integer> events = new ArrayList<>();
    int running;
    int least = Integer.MAX_VALUE;
    int most;
    boolean started;

    synchronized void started(int version) {
      events.add(version);
      running++;
      most = Math.max(most, running);
    }

    synchronized void stopped(int version) {
      events.add(-version);
      running--;
      if (started) {
        least = Math.min(least, running);
      }
    }

    synchronized void watch() {
      started = true;
    }

    synchronized List<Integer> events() {
      return List.copyOf(events);
    }
  }

  /** Answers its version (from its configuration); tells {@link Lives} when it starts and stops. */
  public static final class Versioned implements ServiceLifecycle {
    private final Lives lives;
    private int version;

    Versioned(Lives lives) {
      this.lives = lives;
    }

    @Override
    public void setup(ServiceContext context) {
      version = context.config().getInteger("version");
    }

    @Override
    public void start() {
      lives.started(version);
    }

    @Override
    public void stop() {
      lives.stopped(version);
    }

    /** {@return this instance's version} @param value the record */
    public int process(int value) {
      return version;
    }
  }

  /** The first version of a service registered by class. */
  public static final class First {
    /** {@return "first"} @param value anything */
    public String process(String value) {
      return "first:" + value;
    }
  }

  /** The second version. */
  public static final class Second {
    /** {@return "second"} @param value anything */
    public String process(String value) {
      return "second:" + value;
    }
  }

  private static ServiceOptions versioned(int version, int instances) {
    return new ServiceOptions().setInstances(instances).setMaxConcurrency(2)
      .setConfig(new JsonObject().put("version", version));
  }

  @Test
  void aRedeployUnderARunningJobReplacesTheInstancesOneAtATimeAndFailsNoCall(Vertx vertx) {
    LocalEnvironment env = LocalEnvironment.create(vertx, "roll", new EnvironmentOptions());
    try {
      Lives lives = new Lives();
      env.registerService("versioned", () -> new Versioned(lives), versioned(1, 3));
      env.deploy("versioned").await();
      lives.watch();

      // Records until told to stop: the job runs through the whole redeploy, whatever the machine's speed.
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger produced = new AtomicInteger();
      AtomicIntegerArray seen = new AtomicIntegerArray(5_000_000);
      AtomicInteger done = new AtomicInteger();
      Set<Integer> versions = ConcurrentHashMap.newKeySet();
      env.fromBatch(new BatchFunction<Integer>() {
          @Override
          public Integer execute() {
            return stop.get() ? null : produced.getAndIncrement();
          }
        })
        .map(new MapFunction<Integer, Integer>() {
          @Override
          public Integer execute(Integer value) {
            int version = callService("versioned", value);
            versions.add(version);
            return value;
          }
        }, 8)
        .sink(value -> {
          seen.incrementAndGet(value);
          done.incrementAndGet();
        });
      Job job = env.submit().await();
      await().atMost(Duration.ofSeconds(60)).until(() -> done.get() >= 2_000);

      env.redeploy("versioned", versioned(2, 2)).await();
      int after = done.get();
      await().atMost(Duration.ofSeconds(60)).until(() -> done.get() >= after + 2_000);
      stop.set(true);
      JobResult result = job.completion().await();

      assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(result.errors()).as("failed calls").isEmpty();
      int records = produced.get();
      assertThat(done.get()).isEqualTo(records);
      for (int i = 0; i < records; i++) {
        assertThat(seen.get(i)).as("arrivals of record %d", i).isEqualTo(1);
      }
      assertThat(versions).containsExactlyInAnyOrder(1, 2);
      // One at a time: a new instance starts before each old one stops (3 old, 2 new: the last old one just goes).
      assertThat(lives.events().subList(3, lives.events().size())).containsExactly(2, -1, 2, -1, -1);
      assertThat(lives.least).as("instances serving at the least, during the redeploy").isGreaterThanOrEqualTo(2);
      assertThat(lives.most).as("instances at the most").isEqualTo(4);
      assertThat(env.services().<Integer>call("versioned", 7)).isEqualTo(2);
      assertThat(env.services().stats("versioned").await().instances()).isEqualTo(2);
    } finally {
      env.close().await();
    }
  }

  @Test
  void aRedeployWithAnotherClassServesTheNewClass(Vertx vertx) {
    LocalEnvironment env = LocalEnvironment.create(vertx, "roll-class", new EnvironmentOptions());
    try {
      env.registerService("greeter", First.class, new ServiceOptions().setInstances(2));
      env.start().await();
      assertThat(env.services().<String>call("greeter", "a")).isEqualTo("first:a");
      env.redeploy("greeter", Second.class, null).await();
      for (int i = 0; i < 10; i++) {
        assertThat(env.services().<String>call("greeter", "b")).isEqualTo("second:b");
      }
      assertThat(env.services().stats("greeter").await().instances()).isEqualTo(2);
    } finally {
      env.close().await();
    }
  }

  @Test
  void aServiceNotRunningOnlyTakesTheNewOptions(Vertx vertx) {
    LocalEnvironment env = LocalEnvironment.create(vertx, "roll-idle", new EnvironmentOptions());
    try {
      Lives lives = new Lives();
      env.registerService("versioned", () -> new Versioned(lives), versioned(1, 1));
      env.redeploy("versioned", versioned(3, 2)).await();
      assertThat(lives.events()).as("nothing started by the redeploy").isEmpty();
      assertThat(env.services().<Integer>call("versioned", 1)).as("started on its first call, new options").isEqualTo(3);
      assertThat(env.services().stats("versioned").await().instances()).isEqualTo(2);
    } finally {
      env.close().await();
    }
  }

  @Test
  void whatCannotBeRedeployedFailsWithWhy(Vertx vertx) {
    LocalEnvironment env = LocalEnvironment.create(vertx, "roll-bad", new EnvironmentOptions());
    try {
      env.registerService("supplied", () -> new First());
      env.servePipeline("piped", in -> in.map(x -> x));
      assertThat(catchThrowable(() -> env.redeploy("nope", null).await())).isInstanceOf(ServiceNotFoundException.class);
      assertThat(catchThrowable(() -> env.redeploy("supplied", Second.class, null).await()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Supplier");
      assertThat(catchThrowable(() -> env.redeploy("piped", new ServiceOptions()).await()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pipeline");
    } finally {
      env.close().await();
    }
  }
}
