package io.sagebus;

import io.sagebus.testing.EchoService;
import io.sagebus.testing.FailingService;
import io.sagebus.testing.LatchService;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Which calls take the direct path to a service's instances in this JVM, and what they keep of the bus path: the
 * requests on the bus are counted by an outbound interceptor. Core's tests run a second time with every call on the
 * bus ({@code -Dsagebus.directCalls=off}, a Surefire execution), so the expectations follow that property.
 */
@ExtendWith(VertxExtension.class)
class DirectCallsTest {

  private static final String MODE = System.getProperty("sagebus.directCalls", "all");

  private LocalEnvironment env;

  @AfterEach
  void tearDown() {
    if (env != null) {
      env.close().await();
    }
  }

  /** {@return a counter of the requests sent on the bus to a service of the environment {@code direct}} */
  private static AtomicInteger requestsOnTheBus(Vertx vertx, String service) {
    String address = "sagebus.direct.service." + service;
    AtomicInteger n = new AtomicInteger();
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      if (address.equals(ctx.message().address())) {
        n.incrementAndGet();
      }
      ctx.next();
    });
    return n;
  }

  @Test
  void anOperatorsCallsReachTheLocalInstanceWithoutTheBus(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "direct", new EnvironmentOptions());
    env.registerService("echo", EchoService.class);
    AtomicInteger onBus = requestsOnTheBus(vertx, "echo");
    List<Object> out = new CopyOnWriteArrayList<>();
    env.fromBatch(List.of(1, 2, 3))
      .map(new MapFunction<Integer, Object>() {
        @Override
        public Object execute(Integer v) {
          return callService("echo", v);
        }
      })
      .mapAsync(v -> env.services().callAsync("echo", CallOptions.method("async"), v), 4, AsyncOrder.ORDERED)
      .sink(out::add);
    JobResult r = env.submit().await().completion().await();
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(out).containsExactly(1, 2, 3);
    assertThat(onBus).hasValue(MODE.equals("off") ? 6 : 0);
  }

  @Test
  void callsOutsideOperatorsTakeTheDirectPathToo(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "direct", new EnvironmentOptions());
    env.registerService("echo", EchoService.class);
    env.start().await();
    AtomicInteger onBus = requestsOnTheBus(vertx, "echo");
    // From this (plain) thread, sync and async, and from an event loop.
    assertThat(env.services().<Integer>call("echo", 7)).isEqualTo(7);
    assertThat(env.services().<Integer>callAsync("echo", 8).await()).isEqualTo(8);
    Promise<Integer> fromLoop = Promise.promise();
    vertx.runOnContext(v -> env.services().<Integer>callAsync("echo", 9).onComplete(fromLoop));
    assertThat(fromLoop.future().await()).isEqualTo(9);
    assertThat(onBus).hasValue(MODE.equals("all") ? 0 : 3);
  }

  /** Calls its own service from its Future method, {@code n} deep. */
  public static class Countdown implements ServiceLifecycle {
    private ServiceClient services;

    @Override
    public void setup(ServiceContext context) {
      services = context.services();
    }

    /**
     * @param n how deep
     * @return {@code n}, counted one call at a time
     */
    public Future<Integer> process(int n) {
      return n == 0 ? Future.succeededFuture(0) : services.<Integer>callAsync("countdown", n - 1).map(x -> x + 1);
    }
  }

  @Test
  void aServiceCallingItselfFromItsEventLoopRunsEachCallInATaskOfItsOwn(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "direct", new EnvironmentOptions());
    // Each level holds its slot while the next runs.
    env.registerService("countdown", Countdown::new, new ServiceOptions().setMaxConcurrency(5000));
    env.start().await();
    AtomicInteger onBus = requestsOnTheBus(vertx, "countdown");
    // Run inside the caller's call, 3,000 nested calls would overflow the event loop's stack; as tasks of their own
    // (as on the bus) they do not.
    assertThat(env.services().<Integer>callAsync("countdown", CallOptions.create().timeout(Duration.ofSeconds(60)),
      3000).await()).isEqualTo(3000);
    assertThat(onBus).hasValue(MODE.equals("all") ? 0 : 3001);
  }

  @Test
  void aServiceTaskDeployedByHandIsReachedOverTheBus(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "direct", new EnvironmentOptions());
    vertx.deployVerticle(new ServiceTaskVerticle("direct", "manual", EchoService::new, new ServiceOptions()),
      new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)).await();
    AtomicInteger onBus = requestsOnTheBus(vertx, "manual");
    List<Object> out = new CopyOnWriteArrayList<>();
    env.fromBatch(List.of("a", "b"))
      .map(new MapFunction<String, Object>() {
        @Override
        public Object execute(String v) {
          return callService("manual", v);
        }
      })
      .sink(out::add);
    env.submit().await().completion().await();
    assertThat(out).containsExactly("a", "b");
    assertThat(onBus).hasValue(2);
  }

  @Test
  void aDirectCallGetsTheServicesFailureAsOnTheBus(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "direct", new EnvironmentOptions());
    env.registerService("profiles", FailingService.class);
    List<Object> failed = new CopyOnWriteArrayList<>();
    DataStream<Object> out = env.fromBatch(List.of("u1"))
      .map(new MapFunction<String, Object>() {
        @Override
        public Object execute(String v) {
          return callService("profiles", v);
        }
      })
      .onError(OnError.SIDE_OUTPUT);
    out.failures().sink(failed::add);
    out.sink(x -> { });
    env.submit().await().completion().await();
    assertThat(failed).singleElement().satisfies(f -> {
      FailedRecord record = (FailedRecord) f;
      assertThat(record.error()).isEqualTo(ServiceCallException.class.getName());
      assertThat(record.message()).contains(FailingService.ProfileMissingException.class.getName())
        .contains("no profile for u1");
    });
  }

  @Test
  void aDirectCallTimesOutAtItsDeadlineAndItsMethodIsInterrupted(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "direct", new EnvironmentOptions());
    CountDownLatch never = new CountDownLatch(1);
    AtomicInteger inside = new AtomicInteger();
    env.registerService("stuck", () -> new LatchService(never, inside, new AtomicInteger()), new ServiceOptions());
    List<Object> failed = new CopyOnWriteArrayList<>();
    DataStream<Object> out = env.fromBatch(List.of("x"))
      .map(new MapFunction<String, Object>() {
        @Override
        public Object execute(String v) {
          return context().services().call("stuck", CallOptions.create().timeout(Duration.ofMillis(300)), v);
        }
      })
      .onError(OnError.SIDE_OUTPUT);
    out.failures().sink(failed::add);
    out.sink(x -> { });
    long t0 = System.nanoTime();
    env.submit().await().completion().await();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    assertThat(failed).singleElement()
      .satisfies(f -> assertThat(((FailedRecord) f).error()).isEqualTo(ServiceTimeoutException.class.getName()));
    // The caller gave up: the instance heard it, and interrupted the method (it would wait 60 s).
    await().atMost(Duration.ofSeconds(30)).until(() -> inside.get() == 0);
  }
}
