package io.sagebus;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sagebus.ops.SagebusMetrics;
import io.sagebus.testing.FlakyService;
import io.vertx.core.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * A service's rate limit in the calling JVM: calls wait for a permit within their budget, else
 * fail at once with {@link ServiceThrottledException}. Counts what reached the service, by the
 * wall clock, with margins that hold on a loaded machine.
 */
class ThrottlingTest {

  private static final int RATE = 100;
  private static final int BURST = 5;

  private LocalEnvironment env;

  @AfterEach
  void tearDown() {
    if (env != null) {
      env.close().await();
    }
  }

  /** Records when each call reached it ({@link System#nanoTime()}). */
  public static class ArrivalService {
    private final Queue<Long> arrivals;

    ArrivalService(Queue<Long> arrivals) {
      this.arrivals = arrivals;
    }

    /**
     * {@return {@code i}}
     *
     * @param i anything
     */
    public int process(int i) {
      arrivals.add(System.nanoTime());
      return i;
    }
  }

  private Queue<Long> limited(String envName, RateLimit limit, EnvironmentOptions options) {
    Queue<Long> arrivals = new ConcurrentLinkedQueue<>();
    env = LocalEnvironment.create(envName, options);
    env.registerService("limited", () -> new ArrivalService(arrivals),
      new ServiceOptions().setMaxConcurrency(16).setRateLimit(limit));
    env.start().await();
    return arrivals;
  }

  /**
   * Makes the first calls (class loading, JIT) before anything is measured, so that the first measured
   * arrival is not late after its permit. Takes the bucket's BURST permits: it refills from now.
   */
  private void warmUp(Queue<Long> arrivals) {
    for (int i = 0; i < BURST; i++) {
      env.services().call("limited", i);
    }
    arrivals.clear();
  }

  private static long countWithin(Queue<Long> arrivals, long from, long nanos) {
    return arrivals.stream().filter(t -> t >= from && t - from <= nanos).count();
  }

  @Test
  void aLimitOf100PerSecondAdmits300PlusOrMinusBurstIn3SecondsToSyncCallersOnVirtualThreads() throws Exception {
    Queue<Long> arrivals = limited("throttle-rate", RateLimit.create(RATE, BURST), new EnvironmentOptions());
    warmUp(arrivals);
    AtomicBoolean stop = new AtomicBoolean();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    AtomicInteger sent = new AtomicInteger();
    List<Thread> callers = new ArrayList<>();
    for (int c = 0; c < 16; c++) { // far more demand than 100/s: each caller waits for its permits
      callers.add(Thread.ofVirtual().start(() -> {
        while (!stop.get()) {
          try {
            env.services().call("limited", CallOptions.create().timeout(Duration.ofSeconds(10)), sent.incrementAndGet());
          } catch (RuntimeException e) {
            failures.add(e);
          }
        }
      }));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      long first = arrivals.stream().mapToLong(Long::longValue).min().orElse(Long.MAX_VALUE);
      return first != Long.MAX_VALUE && System.nanoTime() - first > TimeUnit.MILLISECONDS.toNanos(3_400);
    });
    stop.set(true);
    for (Thread t : callers) {
      t.join(Duration.ofSeconds(15));
    }
    long first = arrivals.stream().mapToLong(Long::longValue).min().orElseThrow();
    long inThreeSeconds = countWithin(arrivals, first, TimeUnit.SECONDS.toNanos(3));
    // At most BURST permits wait in the bucket, and it refills RATE per second: 300 + BURST at most in 3 s (the
    // limit: never more, whatever the load; +10 for the few milliseconds between the limiter's first permit and the
    // first arrival). Fewer only by the machine: on a loaded 2-core machine timers and virtual threads run late, so
    // the lower bounds say that callers are paced, not starved (a second with under a third of RATE would be).
    assertThat(inThreeSeconds).isBetween((long) 3 * RATE / 2, (long) 3 * RATE + BURST + 10);
    for (int s = 1; s < 3; s++) { // each later second, with the bucket empty: about RATE
      long second = countWithin(arrivals, first + TimeUnit.SECONDS.toNanos(s), TimeUnit.SECONDS.toNanos(1));
      assertThat(second).as("second %d", s).isBetween((long) RATE / 3, (long) RATE + BURST + 10);
    }
    assertThat(failures).isEmpty();
    ServiceStats stats = env.services().stats("limited").await();
    assertThat(stats.throttled()).isGreaterThan(3L * RATE / 2);
    assertThat(stats.throttleRejected()).isZero();
    assertThat(stats.throttleWaitMillis()).isPositive();
  }

  @Test
  void aMapAsyncPipelineOverALimitedServiceRunsAtItsRateWithNoFailedRecord() {
    Queue<Long> arrivals = limited("throttle-pipeline", RateLimit.create(RATE, BURST), new EnvironmentOptions());
    warmUp(arrivals);
    List<Integer> out = new CopyOnWriteArrayList<>();
    env.fromBatch(IntStream.range(0, 300).boxed().toList())
      .mapAsync(i -> env.services().<Integer>callAsync("limited", i), 32, AsyncOrder.UNORDERED)
      .sink(out::add);
    long t0 = System.nanoTime();
    JobResult result = env.submit().await().completion().await();
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(result.errors()).isEmpty();
    assertThat(out).containsExactlyInAnyOrderElementsOf(IntStream.range(0, 300).boxed().toList());
    // 300 calls: at most BURST at once, then RATE per second, so at least (300 - BURST) / RATE = 2.95 s;
    // slower only by load.
    assertThat(seconds).isBetween((300.0 - BURST) / RATE - 0.05, 10.0);
    long first = arrivals.stream().mapToLong(Long::longValue).min().orElseThrow();
    long span = arrivals.stream().mapToLong(Long::longValue).max().orElseThrow() - first;
    // The span is shorter than 2.95 s by however late the first call arrived after its permit.
    assertThat(span / 1e9).isBetween((300.0 - BURST) / RATE - 0.3, 6.0);
    for (int half = 1; half <= 3; half++) { // steady state: about RATE in each second
      long from = first + TimeUnit.MILLISECONDS.toNanos(500L * half);
      // At most RATE + BURST: the limit. At least a third of RATE: paced, not starved (see the test above).
      assertThat(countWithin(arrivals, from, TimeUnit.SECONDS.toNanos(1))).as("second from %d ms", 500 * half)
        .isBetween((long) RATE / 3, (long) RATE + BURST + 15);
    }
    ServiceStats stats = env.services().stats("limited").await();
    assertThat(stats.throttleRejected()).isZero();
    assertThat(stats.succeeded()).isEqualTo(300 + BURST); // with the warm-up calls
  }

  @Test
  void aCallWaitsForItsPermitWithinItsBudgetAndFailsAtOnceWhenTheBudgetIsShorter() {
    Queue<Long> arrivals = limited("throttle-budget", RateLimit.create(2, 1), new EnvironmentOptions().setMetricsEnabled(true));
    assertThat((Integer) env.services().call("limited", 1)).isEqualTo(1); // the bucket's one permit

    long t0 = System.nanoTime();
    assertThat((Integer) env.services().call("limited", CallOptions.create().timeout(Duration.ofSeconds(5)), 2)).isEqualTo(2);
    long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(waitedMillis).isGreaterThanOrEqualTo(400); // the next permit comes 500 ms after the first

    // The next permit is ~500 ms away; a 300 ms budget cannot wait for it: it fails now, not after 300 ms.
    long t1 = System.nanoTime();
    ServiceThrottledException e = catchThrowableOfType(ServiceThrottledException.class,
      () -> env.services().call("limited", CallOptions.create().timeout(Duration.ofMillis(300)), 3));
    long failedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
    assertThat(failedAfter).isLessThan(200);
    assertThat(e.code()).isEqualTo(FailureCode.THROTTLED);
    assertThat(e.retryable()).isTrue();
    assertThat(e.service()).isEqualTo("limited");
    assertThat(e.budget()).isLessThanOrEqualTo(Duration.ofMillis(300));
    assertThat(e.waitNeeded()).isGreaterThan(Duration.ofMillis(200));
    assertThat(e.getMessage()).contains("2.0 calls/s", "not sent");
    // The async form fails the same way, at once.
    Future<Object> async = env.services().callAsync("limited", CallOptions.create().timeout(Duration.ofMillis(100)), 4);
    assertThat(async.failed()).isTrue();
    assertThat(async.cause()).isInstanceOf(ServiceThrottledException.class);

    assertThat(arrivals).hasSize(2); // the refused calls never reached the service
    // ...and took no permit: the next call waits for the permit after the second call's (500 ms after it),
    // not for three more.
    long t2 = System.nanoTime();
    assertThat((Integer) env.services().call("limited", CallOptions.create().timeout(Duration.ofSeconds(5)), 5)).isEqualTo(5);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t2)).isLessThan(900);
    assertThat(arrivals).hasSize(3);
    ServiceStats stats = env.services().stats("limited").await();
    assertThat(stats.throttled()).isEqualTo(2);
    assertThat(stats.throttleRejected()).isEqualTo(2);
    assertThat(stats.throttleWaitMillis()).isBetween(400L, 1_100L);

    MeterRegistry registry = SagebusMetrics.registry(env.vertx());
    Timer wait = registry.find("sagebus.client.throttle.wait").tags("env", "throttle-budget", "service", "limited").timer();
    assertThat(wait).isNotNull();
    assertThat(wait.count()).isEqualTo(3); // every admitted call, 0 when a permit was free
    assertThat(wait.max(TimeUnit.MILLISECONDS)).isGreaterThan(300);
    assertThat(registry.find("sagebus.client.errors").tags("service", "limited", "code", "THROTTLED").counter().count())
      .isEqualTo(2);
  }

  /** Calls the limited service {@code n} times, blocking, from its own virtual thread (a service's). */
  public static class SyncCaller {
    private final ServiceContext context;

    /**
     * @param context its context, whose client it calls with
     */
    public SyncCaller(ServiceContext context) {
      this.context = context;
    }

    /**
     * {@return how many calls succeeded}
     *
     * @param n how many calls to make
     */
    public int process(int n) {
      int ok = 0;
      for (int i = 0; i < n; i++) {
        Integer r = context.services().call("limited", i);
        ok += r == i ? 1 : 0;
      }
      return ok;
    }
  }

  @Test
  void aServiceCallingSynchronouslyFromItsVirtualThreadWaitsForEachPermit() {
    Queue<Long> arrivals = limited("throttle-nested", RateLimit.create(20, 1), new EnvironmentOptions());
    env.registerService("caller", SyncCaller.class);
    env.deploy("caller").await();
    long t0 = System.nanoTime();
    assertThat((Integer) env.services().call("caller", CallOptions.create().timeout(Duration.ofSeconds(10)), 10))
      .isEqualTo(10);
    // One permit every 50 ms: the ten calls span at least 9 * 50 ms.
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isGreaterThanOrEqualTo(430);
    long span = arrivals.stream().mapToLong(Long::longValue).max().orElseThrow()
      - arrivals.stream().mapToLong(Long::longValue).min().orElseThrow();
    assertThat(TimeUnit.NANOSECONDS.toMillis(span)).isGreaterThanOrEqualTo(430);
    // The burst permit serves the first call at once; a later call waits unless the machine was so slow that the
    // previous call took a whole 50 ms (then its permit was ready): at least one waited, never the first.
    assertThat(env.services().stats("limited").await().throttled()).isBetween(1L, 9L);
  }

  @Test
  void retriesOfACallTakeNoSecondPermit() {
    AtomicInteger calls = new AtomicInteger();
    env = LocalEnvironment.create("throttle-retry", new EnvironmentOptions());
    // One permit a second: if each attempt took one, three attempts would need 2 s.
    env.registerService("flaky", () -> new FlakyService(2, calls), new ServiceOptions().setMaxConcurrency(3)
      .setDrainTimeout(Duration.ofMillis(100)).setRateLimit(RateLimit.create(1, 1)));
    env.start().await();
    RetryPolicy fast = new RetryPolicy().setMaxAttempts(3).setAttemptTimeout(Duration.ofMillis(200))
      .setInitialBackoff(Duration.ofMillis(10));
    long t0 = System.nanoTime();
    Object result = env.services().call("flaky", CallOptions.create().retry(fast).timeout(Duration.ofSeconds(10)), "v");
    assertThat(result).isEqualTo("v");
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(1_800);
    assertThat(calls).hasValue(3);
    ServiceStats stats = env.services().stats("flaky").await();
    assertThat(stats.retries()).isEqualTo(2);
    assertThat(stats.throttled()).isZero();
  }

  @Test
  void closingTheEnvironmentFailsWaitingCallsWithStoppingAndLeavesNothingOpen() {
    Queue<Long> arrivals = limited("throttle-close", RateLimit.create(1, 1), new EnvironmentOptions());
    List<Future<Object>> calls = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      calls.add(env.services().callAsync("limited", CallOptions.create().timeout(Duration.ofSeconds(30)), i));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> arrivals.size() == 1);
    assertThat(env.openResources()).filteredOn(r -> r.startsWith("timer rate-limit wait of limited.")).hasSize(3);

    env.close().await();
    assertThat(env.openResources()).isEmpty();
    assertThat(calls.get(0).succeeded()).isTrue();
    for (Future<Object> waiting : calls.subList(1, 4)) {
      assertThat(waiting.failed()).isTrue();
      assertThat(waiting.cause()).isInstanceOf(ServiceCallException.class);
      assertThat(((ServiceCallException) waiting.cause()).code()).isEqualTo(FailureCode.STOPPING);
    }
    assertThat(arrivals).hasSize(1);
    env = null;
  }
}
