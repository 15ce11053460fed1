package io.sagebus;

import io.sagebus.testing.CountingService;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.FailingService;
import io.sagebus.testing.LatchService;
import io.sagebus.testing.SlowService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/** One test per row of the design's error table, each "at once" meaning well under a second against a 30 s timeout. */
@ExtendWith(VertxExtension.class)
class ServiceErrorsTest {

  private static final Duration AT_ONCE = Duration.ofSeconds(1);

  private Vertx vertx;
  private LocalEnvironment env;
  private final AtomicInteger counted = new AtomicInteger();
  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicInteger inside = new AtomicInteger();

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    env = LocalEnvironment.create(vertx, "errors", new EnvironmentOptions().setAsyncTimeout(Duration.ofSeconds(30))
      .setSyncTimeout(Duration.ofSeconds(30)));
    env.registerService("echo", EchoService.class)
      .registerService("failing", FailingService.class)
      .registerService("slow", SlowService.class)
      .registerService("counting", () -> new CountingService(counted))
      .registerService("held", () -> new LatchService(release, inside, new AtomicInteger()),
        new ServiceOptions().setMaxConcurrency(1).setMaxQueued(0).setDrainTimeout(Duration.ofMillis(300)));
    env.start().await();
  }

  @AfterEach
  void tearDown() {
    release.countDown();
    env.close().await();
  }

  @Test
  void unknownServiceFailsFastAndNamesTheRegisteredOnes() {
    long t0 = System.nanoTime();
    ServiceNotFoundException e = catchThrowableOfType(ServiceNotFoundException.class,
      () -> env.services().call("profile", "u1"));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(AT_ONCE);
    assertThat(e.service()).isEqualTo("profile");
    assertThat(e.registered()).containsExactly("counting", "echo", "failing", "held", "slow");
    assertThat(e.getMessage()).contains("profile", "echo", "registerService");
  }

  @Test
  void unknownServiceIsNeverRetried() {
    CallOptions retried = CallOptions.create().retry(new RetryPolicy().setMaxAttempts(5));
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> env.services().call("nope", retried)).isInstanceOf(ServiceNotFoundException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(AT_ONCE);
  }

  @Test
  void unknownMethodFailsAtOnce() {
    long t0 = System.nanoTime();
    ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("echo", CallOptions.method("lookup"), "x"));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(AT_ONCE);
    assertThat(e.code()).isEqualTo(FailureCode.UNKNOWN_METHOD);
    assertThat(e.method()).isEqualTo("lookup");
    assertThat(e.remoteMessage()).contains("lookup", "add", "process");
  }

  @Test
  void lifecycleAndObjectMethodsAreNotCallable() {
    for (String m : new String[]{"toString", "hashCode", "wait", "getClass"}) {
      ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
        () -> env.services().call("echo", CallOptions.method(m)));
      assertThat(e.code()).as(m).isEqualTo(FailureCode.UNKNOWN_METHOD);
    }
  }

  @Test
  void wrongArgumentCountFailsAtOnce() {
    ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("echo", CallOptions.method("add"), 1));
    assertThat(e.code()).isEqualTo(FailureCode.BAD_ARGUMENTS);
    assertThat(e.remoteMessage()).contains("add takes 2 argument(s), got 1");
  }

  @Test
  void wrongArgumentTypesFailAtOnce() {
    long t0 = System.nanoTime();
    ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("echo", CallOptions.method("add"), "one", 2));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(AT_ONCE);
    assertThat(e.code()).isEqualTo(FailureCode.BAD_ARGUMENTS);
    assertThat(e.remoteMessage()).contains("add(int, int)", "one");
    ServiceCallException nullToPrimitive = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("echo", CallOptions.method("add"), null, 2));
    assertThat(nullToPrimitive.code()).isEqualTo(FailureCode.BAD_ARGUMENTS);
  }

  @Test
  void argumentThatCannotBeMappedToJsonFailsBeforeSending() {
    ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("counting", new Object() {
        @SuppressWarnings("unused")
        public Object getSelf() {
          return this;
        }
      }));
    assertThat(e.code()).isEqualTo(FailureCode.BAD_ARGUMENTS);
    assertThat(counted).hasValue(0);
  }

  @Test
  void serviceExceptionKeepsRemoteTypeMessageAndStack() {
    ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("failing", "u7"));
    assertThat(e.code()).isEqualTo(FailureCode.SERVICE_ERROR);
    assertThat(e.remoteType()).isEqualTo(FailingService.ProfileMissingException.class.getName());
    assertThat(e.remoteMessage()).isEqualTo("no profile for u7");
    assertThat(e.remoteStack()).isNotEmpty().anySatisfy(f -> assertThat(f).contains("FailingService.process"));
    assertThat(e.getMessage()).contains("failing.process", "SERVICE_ERROR", "no profile for u7");
  }

  @Test
  void failedFutureOfAsyncMethodKeepsRemoteType(VertxTestContext ctx) {
    env.services().callAsync("failing", CallOptions.method("async"), "u8").onComplete(ctx.failing(e -> ctx.verify(() -> {
      assertThat(e).isInstanceOf(ServiceCallException.class);
      ServiceCallException sce = (ServiceCallException) e;
      assertThat(sce.code()).isEqualTo(FailureCode.SERVICE_ERROR);
      assertThat(sce.remoteType()).endsWith("ProfileMissingException");
      assertThat(sce.remoteMessage()).isEqualTo("no async profile for u8");
      ctx.completeNow();
    })));
  }

  @Test
  void noAnswerWithinTheTimeoutIsAServiceTimeout() {
    long t0 = System.nanoTime();
    ServiceTimeoutException e = catchThrowableOfType(ServiceTimeoutException.class,
      () -> env.services().call("slow", CallOptions.create().timeout(Duration.ofMillis(300)), 5_000));
    long took = (System.nanoTime() - t0) / 1_000_000;
    assertThat(took).isBetween(290L, 2_000L);
    assertThat(e.service()).isEqualTo("slow");
    assertThat(e.method()).isEqualTo("process");
    assertThat(e.timeout()).isEqualTo(Duration.ofMillis(300));
    assertThat(e.attempts()).isEqualTo(1);
  }

  @Test
  void spentBudgetIsAnsweredDeadlineExceededWithoutRunning(VertxTestContext ctx) {
    vertx.eventBus().request("sagebus.errors.service.counting",
        new JsonObject().put("method", "process").put("args", new JsonArray()).put("timeoutMs", 0))
      .onComplete(ctx.failing(e -> ctx.verify(() -> {
        assertThat(e).isInstanceOf(ReplyException.class);
        assertThat(((ReplyException) e).failureCode()).isEqualTo(FailureCode.DEADLINE_EXCEEDED.code());
        assertThat(counted).hasValue(0);
        ctx.completeNow();
      })));
  }

  @Test
  void callQueuedPastItsDeadlineNeverRuns() {
    LocalEnvironment env2 = LocalEnvironment.create(vertx, "deadline", new EnvironmentOptions());
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch gate = new CountDownLatch(1);
    env2.registerService("single", () -> new Object() {
      @SuppressWarnings("unused")
      public int process(boolean block) throws InterruptedException {
        runs.incrementAndGet();
        if (block) {
          gate.await();
        }
        return runs.get();
      }
    });
    env2.start().await();
    try {
      Future<Integer> first = env2.services().callAsync("single", true);
      await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() == 1);
      Future<Integer> queued = env2.services().callAsync("single", CallOptions.create().timeout(Duration.ofMillis(200)), false);
      assertThatThrownBy(queued::await).isInstanceOf(ServiceTimeoutException.class);
      // The task counts the budget from when the request arrived, a little after the caller sent it:
      // let that later deadline pass too before the queued call can be taken.
      vertx.timer(100).await();
      gate.countDown();
      assertThat(first.await()).isEqualTo(1);
      await().atMost(Duration.ofSeconds(5)).until(() ->
        env2.services().stats("single").await().errors(FailureCode.DEADLINE_EXCEEDED) == 1);
      assertThat(runs).hasValue(1);
    } finally {
      gate.countDown();
      env2.close().await();
    }
  }

  @Test
  void fullServiceIsOverloadedAtOnce() {
    Future<Object> holding = env.services().callAsync("held", "a");
    await().atMost(Duration.ofSeconds(5)).until(() -> inside.get() == 1);
    long t0 = System.nanoTime();
    ServiceOverloadedException e = catchThrowableOfType(ServiceOverloadedException.class,
      () -> env.services().call("held", "b"));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(AT_ONCE);
    assertThat(e.code()).isEqualTo(FailureCode.OVERLOADED);
    assertThat(e.retryable()).isTrue();
    release.countDown();
    assertThat(holding.await()).isEqualTo("a");
  }

  @Test
  void executingCallGetsStoppingAfterTheDrainTimeoutNotTheFullTimeout() {
    Future<Object> holding = env.services().callAsync("held", "a");
    await().atMost(Duration.ofSeconds(5)).until(() -> inside.get() == 1);
    long t0 = System.nanoTime();
    env.undeploy("held").await();
    ServiceCallException e = catchThrowableOfType(ServiceCallException.class, holding::await);
    long took = (System.nanoTime() - t0) / 1_000_000;
    assertThat(e.code()).isEqualTo(FailureCode.STOPPING);
    assertThat(took).isBetween(250L, 5_000L);
  }

  @Test
  void syncCallOnEventLoopFailsAtOnceAndSendsNothing(VertxTestContext ctx) {
    vertx.runOnContext(v -> ctx.verify(() -> {
      assertThatThrownBy(() -> env.services().call("counting"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("callAsync");
      assertThat(counted).hasValue(0);
      ctx.completeNow();
    }));
  }

  @Test
  void syncCallOnWorkerThreadFailsAtOnce(VertxTestContext ctx) {
    vertx.executeBlocking(() -> {
      try {
        env.services().call("counting");
        return "sent";
      } catch (IllegalStateException e) {
        return e.getMessage();
      }
    }).onComplete(ctx.succeeding(msg -> ctx.verify(() -> {
      assertThat(msg).contains("callAsync");
      assertThat(counted).hasValue(0);
      ctx.completeNow();
    })));
  }

  @Test
  void requestThatIsNotSagebusJsonIsRefused(VertxTestContext ctx) {
    vertx.eventBus().request("sagebus.errors.service.echo", "not json").onComplete(ctx.failing(e -> ctx.verify(() -> {
      assertThat(((ReplyException) e).failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
      ctx.completeNow();
    })));
  }

  @Test
  void resultThatCannotBeConvertedIsABadResult() {
    ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("echo", CallOptions.create().resultType(Integer.class), "not a number"));
    assertThat(e.code()).isEqualTo(FailureCode.BAD_RESULT);
  }

  @Test
  void closedEnvironmentAnswersNoHandlers(VertxTestContext ctx) {
    env.close().await();
    vertx.eventBus().request("sagebus.errors.service.echo", new JsonObject()).onComplete(ctx.failing(e -> ctx.verify(() -> {
      assertThat(((ReplyException) e).failureType()).isEqualTo(ReplyFailure.NO_HANDLERS);
      ctx.completeNow();
    })));
  }
}
