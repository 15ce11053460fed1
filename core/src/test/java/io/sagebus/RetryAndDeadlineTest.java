package io.sagebus;

import io.sagebus.testing.FlakyService;
import io.sagebus.testing.LatchService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.sagebus.impl.wire.CallRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.MDC;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class RetryAndDeadlineTest {

  private static final RetryPolicy FAST = new RetryPolicy().setMaxAttempts(3)
    .setAttemptTimeout(Duration.ofMillis(200)).setInitialBackoff(Duration.ofMillis(10));

  /** Hung test calls are cut off quickly when the environment closes. */
  private static final Duration SHORT_DRAIN = Duration.ofMillis(100);

  private Vertx vertx;
  private LocalEnvironment env;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    env = LocalEnvironment.create(vertx, "retry", new EnvironmentOptions());
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  /** Hangs on its first two calls and records the request id of every call. */
  public static class RecordingFlaky {
    static final List<String> IDS = new CopyOnWriteArrayList<>();
    private final FlakyService flaky;

    RecordingFlaky(AtomicInteger calls) {
      flaky = new FlakyService(2, calls);
    }

    public Object process(Object value) throws InterruptedException {
      IDS.add(MDC.get("sagebus-request-id"));
      return flaky.process(value);
    }
  }

  @Test
  void retryableCallIsRetriedAfterAttemptTimeoutsWithTheSameRequestId() {
    AtomicInteger calls = new AtomicInteger();
    RecordingFlaky.IDS.clear();
    env.registerService("flaky", () -> new RecordingFlaky(calls), new ServiceOptions().setMaxConcurrency(3).setDrainTimeout(SHORT_DRAIN));
    env.start().await();
    Object result = env.services().call("flaky", CallOptions.create().retry(FAST).timeout(Duration.ofSeconds(5)), "v");
    assertThat(result).isEqualTo("v");
    assertThat(calls).hasValue(3);
    assertThat(RecordingFlaky.IDS).hasSize(3).doesNotContainNull();
    assertThat(RecordingFlaky.IDS.stream().distinct()).hasSize(1);
    assertThat(env.services().stats("flaky").await().retries()).isEqualTo(2);
  }

  @Test
  void callNotMarkedRetryableIsSentOnceAndWaitsItsWholeBudget() {
    AtomicInteger calls = new AtomicInteger();
    env.registerService("flaky", () -> new FlakyService(2, calls),
      new ServiceOptions().setMaxConcurrency(3).setRetryPolicy(FAST).setDrainTimeout(SHORT_DRAIN));
    env.start().await();
    long t0 = System.nanoTime();
    ServiceTimeoutException e = catchThrowableOfType(ServiceTimeoutException.class,
      () -> env.services().call("flaky", CallOptions.create().timeout(Duration.ofMillis(700)), "v"));
    long took = (System.nanoTime() - t0) / 1_000_000;
    assertThat(e.attempts()).isEqualTo(1);
    assertThat(took).isGreaterThanOrEqualTo(690);
    assertThat(calls).hasValue(1);
  }

  @Test
  void serviceOptionsCanMarkCallsRetryable() {
    AtomicInteger calls = new AtomicInteger();
    env.registerService("flaky", () -> new FlakyService(1, calls),
      new ServiceOptions().setMaxConcurrency(2).setRetryable(true).setRetryPolicy(FAST).setDrainTimeout(SHORT_DRAIN));
    env.start().await();
    assertThat((Object) env.services().call("flaky", "w")).isEqualTo("w");
    assertThat(calls).hasValue(2);
  }

  @Test
  void overloadedRetryableCallSucceedsOnceThereIsRoom() {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger inside = new AtomicInteger();
    env.registerService("held", () -> new LatchService(release, inside, new AtomicInteger()),
      new ServiceOptions().setMaxQueued(0));
    env.start().await();
    Future<Object> holding = env.services().callAsync("held", "first");
    await().atMost(Duration.ofSeconds(5)).until(() -> inside.get() == 1);
    Future<Object> retried = env.services().callAsync("held", CallOptions.create()
      .retry(new RetryPolicy().setMaxAttempts(50).setInitialBackoff(Duration.ofMillis(20)).setMaxBackoff(Duration.ofMillis(50))),
      "second");
    await().atMost(Duration.ofSeconds(5)).until(() -> env.services().stats("held").await().rejected() >= 2);
    release.countDown();
    assertThat(holding.await()).isEqualTo("first");
    assertThat(retried.await()).isEqualTo("second");
  }

  @Test
  void registeredServiceStartsOnItsFirstCallBeforeStart() {
    env.registerService("late", LateService.class);
    long t0 = System.nanoTime();
    String answer = env.services().call("late", CallOptions.create().timeout(Duration.ofSeconds(10)));
    assertThat(answer).isEqualTo("here");
    // It started for the call, not after the timeout: far under the 10 s budget even on a loaded machine.
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000);
    assertThat(env.openResources()).contains("consumer sagebus.retry.service.late #0");
    // It runs as if deployed: undeploy stops it as any other.
    env.undeploy("late").await();
    assertThat(env.openResources()).noneMatch(r -> r.contains("service.late"));
  }

  @Test
  void concurrentFirstCallsStartOneDeployment() {
    env.registerService("late", LateService.class, new ServiceOptions().setInstances(2));
    List<Future<String>> calls = new java.util.ArrayList<>();
    for (int i = 0; i < 50; i++) {
      calls.add(env.services().callAsync("late"));
    }
    for (Future<String> f : calls) {
      assertThat(f.await()).isEqualTo("here");
    }
    assertThat(env.openResources().stream().filter(r -> r.startsWith("consumer sagebus.retry.service.late"))).hasSize(2);
  }

  @Test
  void withoutStartOnCallACallToAServiceNotStartedFailsAtOnce() {
    LocalEnvironment strict = LocalEnvironment.create(vertx, "strict",
      new EnvironmentOptions().setStartOnCall(false));
    try {
      strict.registerService("late", LateService.class);
      long t0 = System.nanoTime();
      ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
        () -> strict.services().call("late", CallOptions.create().timeout(Duration.ofSeconds(10))));
      assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000);
      assertThat(e.code()).isEqualTo(FailureCode.NOT_STARTED);
      assertThat(e.getMessage()).contains("start()");
      strict.start().await();
      assertThat((String) strict.services().call("late")).isEqualTo("here");
    } finally {
      strict.close().await();
    }
  }

  @Test
  void callWaitingForAnInstanceSucceedsOnceItIsDeployed() {
    env.registerService("late", LateService.class);
    Future<String> waiting = env.services().callAsync("late", CallOptions.create().timeout(Duration.ofSeconds(10)));
    env.deploy("late").await();
    assertThat(waiting.await()).isEqualTo("here");
  }

  /** Deployed only when a test says so. */
  public static class LateService {
    public String process() {
      return "here";
    }
  }

  /** Calls the probe with a long timeout of its own: the budget it sends must be the caller's remainder. */
  public static class Forwarder implements ServiceLifecycle {
    private ServiceContext ctx;

    @Override
    public void setup(ServiceContext context) {
      ctx = context;
    }

    public long process() {
      long budget = ctx.services().call("probe", CallOptions.create().timeout(Duration.ofSeconds(20)));
      return budget;
    }
  }

  @Test
  void nestedCallsInheritWhatIsLeftOfTheBudget() {
    // A raw consumer on a service address, answering with the budget the request carried (in one JVM a
    // Sagebus request arrives as the envelope object itself; between JVMs as its JSON form).
    var probe = vertx.eventBus().<CallRequest>consumer("sagebus.retry.service.probe", msg ->
      msg.reply(new JsonObject().put("success", true).put("result", msg.body().timeoutMs())));
    probe.completion().await();
    try {
      env.registerService("forwarder", Forwarder.class);
      env.start().await();
      long nestedBudget = env.services().call("forwarder", CallOptions.create().timeout(Duration.ofMillis(2_000)));
      assertThat(nestedBudget).isBetween(1_000L, 2_000L);
      long direct = env.services().call("probe", CallOptions.create().timeout(Duration.ofMillis(4_000)));
      assertThat(direct).isBetween(3_900L, 4_000L);
    } finally {
      probe.unregister().await();
    }
  }

  @Test
  void timeoutsFallBackFromCallToServiceToEnvironment() {
    LocalEnvironment quick = LocalEnvironment.create(vertx, "quick", new EnvironmentOptions()
      .setSyncTimeout(Duration.ofMillis(300)).setAsyncTimeout(Duration.ofMillis(500)));
    try {
      quick.registerService("probe-env", TimeoutProbe.class, new ServiceOptions().setMaxConcurrency(4).setDrainTimeout(SHORT_DRAIN))
        .registerService("probe-svc", TimeoutProbe.class, new ServiceOptions().setTimeout(Duration.ofMillis(700))
          .setMaxConcurrency(4).setDrainTimeout(SHORT_DRAIN));
      quick.start().await();
      assertThat(budgetOf(quick, () -> quick.services().call("probe-env"))).isEqualTo(300);
      assertThat(budgetOf(quick, () -> quick.services().callAsync("probe-env").await())).isEqualTo(500);
      assertThat(budgetOf(quick, () -> quick.services().call("probe-svc"))).isEqualTo(700);
      assertThat(budgetOf(quick, () -> quick.services().call("probe-svc",
        CallOptions.create().timeout(Duration.ofMillis(900))))).isEqualTo(900);
    } finally {
      quick.close().await();
    }
  }

  private static long budgetOf(LocalEnvironment env, Runnable call) {
    ServiceTimeoutException e = catchThrowableOfType(ServiceTimeoutException.class, call::run);
    return e.timeout().toMillis();
  }

  /** Never answers in time. */
  public static class TimeoutProbe {
    public String process() throws InterruptedException {
      // Held until the drain interrupts it: never answers within the test's timeouts.
      new CountDownLatch(1).await(5, java.util.concurrent.TimeUnit.SECONDS);
      return "late";
    }
  }

  @Test
  void aSpentBudgetIsOneTypeAndOneCodeOnBothSides() {
    // At the caller: no answer in time.
    env.registerService("slow", io.sagebus.testing.SlowService.class);
    ServiceTimeoutException atCaller = catchThrowableOfType(ServiceTimeoutException.class,
      () -> env.services().call("slow", CallOptions.create().timeout(Duration.ofMillis(200)), 5_000));
    assertThat(atCaller.code()).isEqualTo(FailureCode.DEADLINE_EXCEEDED);
    // At the service: it answers DEADLINE_EXCEEDED (here a raw consumer, so the answer does not race the caller's timer).
    var spent = vertx.eventBus().<CallRequest>consumer("sagebus.retry.service.spent", msg ->
      msg.fail(FailureCode.DEADLINE_EXCEEDED.code(), new JsonObject().put("type", "DEADLINE_EXCEEDED")
        .put("message", "spent before it began").encode()));
    spent.completion().await();
    try {
      ServiceTimeoutException atService = catchThrowableOfType(ServiceTimeoutException.class,
        () -> env.services().call("spent", CallOptions.create().timeout(Duration.ofSeconds(20))));
      assertThat(atService.code()).isEqualTo(FailureCode.DEADLINE_EXCEEDED);
      assertThat(atService.getMessage()).contains("spent before it began");
      assertThat(atService).isInstanceOf(ServiceCallException.class).isInstanceOf(SagebusException.class);
    } finally {
      spent.unregister().await();
    }
  }
}
