package io.sagebus;

import io.sagebus.testing.EchoService;
import io.sagebus.testing.LatchService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class ConcurrencyTest {

  private LocalEnvironment env;
  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicInteger inside = new AtomicInteger();
  private final AtomicInteger maxInside = new AtomicInteger();

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "concurrency", new EnvironmentOptions());
  }

  @AfterEach
  void tearDown() {
    release.countDown();
    env.close().await();
  }

  @Test
  void aSequentialCallerFindsItsLastCallsSlotFreeEvenWithNoQueuePlace() throws Exception {
    // A plain-value call gives its slot back as its method returns, before its answer wakes the caller: a caller that
    // calls again at once never finds the one slot still taken, so no call is refused OVERLOADED for want of a place.
    env.registerService("one", EchoService.class, new ServiceOptions().setMaxConcurrency(1).setMaxQueued(0));
    env.start().await();
    int calls = 20_000;
    AtomicInteger answered = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread caller = Thread.ofVirtual().start(() -> {
      try {
        for (int i = 0; i < calls; i++) {
          Object answer = env.services().call("one", i);
          assertThat(answer).isEqualTo(i);
          answered.incrementAndGet();
        }
      } catch (Throwable t) {
        failure.set(t);
      }
    });
    assertThat(caller.join(Duration.ofMinutes(2))).as("the caller ended").isTrue();
    assertThat(failure.get()).as("what the %s-th call threw", answered.get() + 1).isNull();
    assertThat(answered).hasValue(calls);
    ServiceStats stats = env.services().stats("one").await();
    assertThat(stats.rejected()).isZero();
    assertThat(stats.succeeded()).isEqualTo(calls);
  }

  @Test
  void fourCallsRunTogetherAndAFifthIsOverloadedAtOnce() {
    env.registerService("wide", () -> new LatchService(release, inside, maxInside),
      new ServiceOptions().setMaxConcurrency(4).setMaxQueued(0));
    env.start().await();
    List<Future<Object>> calls = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      calls.add(env.services().callAsync("wide", i));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> inside.get() == 4);
    long t0 = System.nanoTime();
    ServiceOverloadedException e = catchThrowableOfType(ServiceOverloadedException.class,
      () -> env.services().call("wide", 4));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
    assertThat(e.remoteMessage()).contains("4 running", "0 queued");
    release.countDown();
    for (int i = 0; i < 4; i++) {
      assertThat(calls.get(i).await()).isEqualTo(i);
    }
    assertThat(maxInside).hasValue(4);
    ServiceStats stats = env.services().stats("wide").await();
    assertThat(stats.rejected()).isEqualTo(1);
    assertThat(stats.succeeded()).isEqualTo(4);
  }

  @Test
  void defaultConcurrencyIsOneCallAtATimeAndTheRestQueue() {
    env.registerService("narrow", () -> new LatchService(release, inside, maxInside));
    env.start().await();
    List<Future<Object>> calls = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      calls.add(env.services().callAsync("narrow", i));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> inside.get() == 1
      && env.services().stats("narrow").await().queued() == 4);
    ServiceStats during = env.services().stats("narrow").await();
    assertThat(during.inFlight()).isEqualTo(1);
    release.countDown();
    for (int i = 0; i < 5; i++) {
      assertThat(calls.get(i).await()).isEqualTo(i);
    }
    assertThat(maxInside).hasValue(1);
  }

  @Test
  void instancesShareTheLoad() {
    env.registerService("spread", WhoAmI.class, new ServiceOptions().setInstances(3));
    env.start().await();
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (int i = 0; i < 30; i++) {
      int index = env.services().call("spread");
      seen.add(index);
    }
    assertThat(seen).containsExactlyInAnyOrder(0, 1, 2);
    assertThat(env.services().stats("spread").await().instances()).isEqualTo(3);
  }

  @Test
  void anAutoscalePolicyIsNotActedOnOutsideAClusterTheInstancesRun() {
    // min 0 and max 5: a local environment still runs the 2 instances asked for, under any load.
    env.registerService("scaled", WhoAmI.class, new ServiceOptions().setInstances(2)
      .setAutoscale(AutoscalePolicy.create(0, 5, 1).setUpscaleDelay(java.time.Duration.ZERO)
        .setDownscaleDelay(java.time.Duration.ZERO)));
    env.start().await();
    java.util.List<io.vertx.core.Future<Integer>> calls = new java.util.ArrayList<>();
    for (int i = 0; i < 40; i++) {
      calls.add(env.services().callAsync("scaled"));
    }
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    calls.forEach(f -> seen.add(f.await()));
    assertThat(seen).containsExactlyInAnyOrder(0, 1);
    assertThat(env.services().stats("scaled").await().instances()).isEqualTo(2);
  }

  @Test
  void blockingMethodsRunOnVirtualThreadsAndFutureMethodsOnTheEventLoop() {
    env.registerService("threads", WhoAmI.class);
    env.start().await();
    boolean virtual = env.services().call("threads", CallOptions.method("onVirtualThread"));
    boolean eventLoop = env.services().call("threads", CallOptions.method("onEventLoop"));
    assertThat(virtual).isTrue();
    assertThat(eventLoop).isTrue();
  }

  /** Tells which instance and which kind of thread answers. */
  public static class WhoAmI implements ServiceLifecycle {
    private int index;

    @Override
    public void setup(ServiceContext context) {
      index = context.instanceIndex();
    }

    public int process() {
      return index;
    }

    public boolean onVirtualThread() {
      return Thread.currentThread().isVirtual();
    }

    public Future<Boolean> onEventLoop() {
      return Future.succeededFuture(io.vertx.core.Context.isOnEventLoopThread());
    }
  }
}
