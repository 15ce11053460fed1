package io.sagebus;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Cancellation that reaches nested calls, in one JVM: three services, each calling the next and then
 * blocking 30 s (a wait for an event that never comes); a cancel at the top (by the caller's handle, by the caller's deadline, by
 * {@code job.cancel()}) stops all three: their threads are interrupted, no code after the wait runs,
 * and no instance has a call in flight or queued.
 */
@ExtendWith(VertxExtension.class)
class CancellationTest {

  private static final List<String> CHAIN = List.of("top", "middle", "bottom");
  private static final Duration GENEROUS = Duration.ofSeconds(20);

  private LocalEnvironment env;
  private final Probe probe = new Probe();

  /** What the three chained services did, with the time each was interrupted. */
  static final class Probe {
    final Map<String, AtomicInteger> started = new ConcurrentHashMap<>();
    final Map<String, Long> interruptedAt = new ConcurrentHashMap<>();
    final AtomicInteger afterWait = new AtomicInteger();

    int started(String service) {
      return started.computeIfAbsent(service, s -> new AtomicInteger()).get();
    }
  }

  /** Calls the next service of the chain (if any), then blocks 30 s waiting for an event that never comes. */
  public static final class Chained implements ServiceLifecycle {
    private final String next;
    private final Probe probe;
    private ServiceContext context;

    Chained(String next, Probe probe) {
      this.next = next;
      this.probe = probe;
    }

    @Override
    public void setup(ServiceContext ctx) {
      this.context = ctx;
    }

    /**
     * @param token anything
     * @return never, unless the wait times out
     * @throws InterruptedException when cancelled
     */
    public String process(String token) throws InterruptedException {
      probe.started.computeIfAbsent(context.name(), s -> new AtomicInteger()).incrementAndGet();
      if (next != null) {
        context.services().callAsync(next, token); // a nested call in flight while this one waits
      }
      try {
        // Blocking work that only a cancel (an interrupt) ends: nothing ever releases this latch.
        new CountDownLatch(1).await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        probe.interruptedAt.put(context.name(), System.nanoTime());
        throw e;
      }
      probe.afterWait.incrementAndGet();
      return token;
    }
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "cancel", new EnvironmentOptions());
    for (int i = 0; i < CHAIN.size(); i++) {
      String next = i + 1 < CHAIN.size() ? CHAIN.get(i + 1) : null;
      env.registerService(CHAIN.get(i), () -> new Chained(next, probe),
        new ServiceOptions().setDrainTimeout(Duration.ofSeconds(60)));
    }
    env.start().await();
  }

  @AfterEach
  void tearDown() {
    env.close().await();
    assertThat(env.openResources()).isEmpty();
  }

  private void awaitAllStarted() {
    await("all three started").atMost(GENEROUS).until(() -> CHAIN.stream().allMatch(s -> probe.started(s) == 1));
  }

  /** All three interrupted, nothing after the wait, nothing in flight or queued: prints how long it took. */
  private void assertAllStopped(String how, long cancelledAt) {
    await("all three interrupted").atMost(GENEROUS).until(() -> probe.interruptedAt.size() == CHAIN.size());
    long last = probe.interruptedAt.values().stream().mapToLong(Long::longValue).max().orElseThrow();
    System.out.printf("CancellationTest (%s): all three invocations interrupted %.1f ms after the cancel%n", how,
      (last - cancelledAt) / 1e6);
    await("nothing in flight").atMost(GENEROUS).until(() -> CHAIN.stream().allMatch(s -> {
      ServiceStats stats = env.services().stats(s).await();
      return stats.inFlight() == 0 && stats.queued() == 0;
    }));
    assertThat(probe.afterWait.get()).as("code after the wait ran").isZero();
    for (String s : CHAIN) {
      ServiceStats stats = env.services().stats(s).await();
      // A caller that gave up at its deadline has its call counted DEADLINE_EXCEEDED; one cancelled by its
      // handle, its job or the call that made it, CANCELLED.
      assertThat(stats.errors(FailureCode.CANCELLED) + stats.errors(FailureCode.DEADLINE_EXCEEDED))
        .as("%s answered CANCELLED or DEADLINE_EXCEEDED", s).isEqualTo(1);
      if (!how.startsWith("deadline")) {
        assertThat(stats.errors(FailureCode.CANCELLED)).as("%s answered CANCELLED", s).isEqualTo(1);
      }
    }
  }

  @Test
  void cancellingTheTopCallThroughItsHandleStopsAllThreeInvocations() {
    CallHandle<String> handle = env.services().callCancellable("top", CallOptions.create().timeout(Duration.ofSeconds(60)),
      "t");
    awaitAllStarted();
    long cancelledAt = System.nanoTime();
    assertThat(handle.cancel()).isTrue();
    assertThat(handle.future().failed()).as("failed at once").isTrue();
    assertThat(handle.future().cause()).isInstanceOf(ServiceCancelledException.class);
    assertThat(((ServiceCallException) handle.future().cause()).code()).isEqualTo(FailureCode.CANCELLED);
    assertThat(handle.cancel()).as("a second cancel").isFalse();
    assertAllStopped("handle", cancelledAt);
  }

  @Test
  void theCallersDeadlinePassingCancelsTheNestedWork() {
    long sent = System.nanoTime();
    Future<String> call = env.services().callAsync("top", CallOptions.create().timeout(Duration.ofSeconds(2)), "t");
    awaitAllStarted();
    Throwable failure = catchThrowable(call::await);
    assertThat(failure).isInstanceOf(ServiceTimeoutException.class);
    assertAllStopped("deadline of 2 s", sent + TimeUnit.SECONDS.toNanos(2));
    assertThat(env.services().stats("top").await().errors(FailureCode.DEADLINE_EXCEEDED)).isEqualTo(1);
  }

  @Test
  void cancellingAJobCancelsTheCallsItsOperatorsHaveInFlight() {
    env.fromBatch(List.of("j"))
      .map(new MapFunction<String, String>() {
        @Override
        public String execute(String value) {
          return callService("top", CallOptions.create().timeout(Duration.ofSeconds(60)), value);
        }
      })
      .sink(v -> probe.afterWait.incrementAndGet());
    Job job = env.submit().await();
    awaitAllStarted();
    long cancelledAt = System.nanoTime();
    JobResult result = job.cancel().await();
    assertThat(result.status()).isEqualTo(JobStatus.CANCELLED);
    assertAllStopped("job.cancel()", cancelledAt);
  }

  @Test
  void anOperatorInterruptedWhileItWaitsForASyncCallStillHasTheCallCancelledWithItsJob() throws Exception {
    // A cancelled job interrupts its operators' threads first and cancels their calls a moment later: a sync call
    // whose caller stopped waiting must still be in the job's signal then.
    io.sagebus.impl.call.Cancellation jobCalls = new io.sagebus.impl.call.Cancellation();
    java.util.concurrent.atomic.AtomicReference<Throwable> ended = new java.util.concurrent.atomic.AtomicReference<>();
    Thread operator = Thread.ofVirtual().start(() -> {
      io.sagebus.impl.call.Cancellation.setAmbient(jobCalls);
      try {
        env.services().call("top", CallOptions.create().timeout(Duration.ofSeconds(60)), "o");
      } catch (Throwable t) {
        ended.set(t);
      } finally {
        io.sagebus.impl.call.Cancellation.setAmbient(null);
      }
    });
    awaitAllStarted();
    operator.interrupt();
    operator.join(GENEROUS.toMillis());
    assertThat(ended.get()).as("the interrupted wait").isInstanceOf(InterruptedException.class);
    long cancelledAt = System.nanoTime();
    jobCalls.cancel("job j was cancelled");
    assertAllStopped("interrupted operator, then its job's cancel", cancelledAt);
  }

  /** A service whose Future method ends only when its call is cancelled, and a blocking one that counts its runs. */
  public static final class Holding {
    final AtomicInteger told = new AtomicInteger();
    final AtomicInteger ran = new AtomicInteger();
    final CountDownLatch release = new CountDownLatch(1);
    volatile CallContext seen;

    /**
     * @return a future failed once the call is cancelled
     */
    public Future<String> hold() {
      CallContext call = CallContext.current();
      seen = call;
      Promise<String> result = Promise.promise();
      call.cancelled().onComplete(v -> {
        told.incrementAndGet();
        result.tryFail("stopped: the call was cancelled");
      });
      return result.future();
    }

    /**
     * @param value anything
     * @return {@code value}, once released
     * @throws InterruptedException when cancelled
     */
    public String block(String value) throws InterruptedException {
      ran.incrementAndGet();
      release.await(60, TimeUnit.SECONDS);
      return value;
    }
  }

  @Test
  void aFutureMethodIsToldThroughItsCallContextAndItsSlotIsFreed() {
    Holding holding = new Holding();
    env.registerService("holding", () -> holding);
    CallHandle<String> handle = env.services().callCancellable("holding", CallOptions.method("hold"));
    await().atMost(GENEROUS).until(() -> holding.seen != null);
    assertThat(holding.seen.requestId()).isEqualTo(handle.requestId());
    assertThat(holding.seen.isCancelled()).isFalse();
    assertThat(holding.seen.remaining()).isPositive();
    handle.cancel();
    assertThat(handle.future().cause()).isInstanceOf(ServiceCancelledException.class);
    await().atMost(GENEROUS).until(() -> holding.told.get() == 1);
    assertThat(holding.seen.isCancelled()).isTrue();
    await("slot freed").atMost(GENEROUS).until(() -> env.services().stats("holding").await().inFlight() == 0);
    assertThat(env.services().stats("holding").await().errors(FailureCode.CANCELLED)).isEqualTo(1);
    assertThat(CallContext.current()).as("outside a service method").isNull();
  }

  @Test
  void aQueuedCallIsDroppedAndNeverRuns() {
    Holding holding = new Holding();
    env.registerService("holding", () -> holding, new ServiceOptions().setMaxConcurrency(1));
    Future<String> first = env.services().callAsync("holding", CallOptions.method("block"), "first");
    await().atMost(GENEROUS).until(() -> holding.ran.get() == 1);
    CallHandle<String> queued = env.services().callCancellable("holding", CallOptions.method("block"), "second");
    await().atMost(GENEROUS).until(() -> env.services().stats("holding").await().queued() == 1);
    queued.cancel();
    await("dropped from the queue").atMost(GENEROUS)
      .until(() -> env.services().stats("holding").await().queued() == 0);
    holding.release.countDown();
    assertThat(first.await()).isEqualTo("first");
    assertThat(queued.future().cause()).isInstanceOf(ServiceCancelledException.class);
    assertThat(holding.ran.get()).as("the queued call never ran").isEqualTo(1);
    assertThat(env.services().stats("holding").await().errors(FailureCode.CANCELLED)).isEqualTo(1);
  }

  @Test
  void aCancelledBlockingCallIsInterruptedAndTheInstanceServesTheNextCall() {
    Holding holding = new Holding();
    env.registerService("holding", () -> holding);
    CallHandle<String> handle = env.services().callCancellable("holding", CallOptions.method("block"), "x");
    await().atMost(GENEROUS).until(() -> holding.ran.get() == 1);
    assertThat(handle.cancel()).isTrue();
    await().atMost(GENEROUS).until(() -> env.services().stats("holding").await().inFlight() == 0);
    // Its runner was interrupted and cleared: the next call runs normally.
    holding.release.countDown();
    assertThat(env.services().<String>call("holding", CallOptions.method("block"), "y")).isEqualTo("y");
  }

  @Test
  void aCallWaitingForARateLimitPermitFailsAtOnceAndIsNeverSent() {
    Holding holding = new Holding();
    holding.release.countDown();
    env.registerService("limited", () -> holding, new ServiceOptions().setRateLimit(RateLimit.create(0.2, 1)));
    assertThat(env.services().<String>call("limited", CallOptions.method("block"), "first")).isEqualTo("first");
    // The next permit comes in 5 s: this call waits for it on a timer.
    CallHandle<String> waiting = env.services().callCancellable("limited",
      CallOptions.method("block").timeout(Duration.ofSeconds(30)), "second");
    assertThat(waiting.future().isComplete()).isFalse();
    assertThat(waiting.cancel()).isTrue();
    assertThat(waiting.future().cause()).as("failed at once").isInstanceOf(ServiceCancelledException.class);
    await("the permit's wait ended").atMost(GENEROUS)
      .until(() -> env.openResources().stream().noneMatch(r -> r.startsWith("timer rate-limit wait")));
    assertThat(holding.ran.get()).as("the cancelled call was never sent").isEqualTo(1);
  }
}
