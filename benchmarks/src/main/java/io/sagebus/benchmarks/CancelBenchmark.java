package io.sagebus.benchmarks;

import io.sagebus.CallHandle;
import io.sagebus.CallOptions;
import io.sagebus.EnvironmentOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceContext;
import io.sagebus.ServiceLifecycle;
import io.sagebus.ServiceOptions;
import io.sagebus.ServiceStats;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * How long a cancel takes to stop nested work, in one JVM: three services, each calling the next
 * without waiting and then sleeping 30 s (issue 10's scenario, as {@code CancellationTest} runs it
 * once); the top call is cancelled through its {@link CallHandle} once all three are sleeping, and
 * the time from the cancel to the last of the three interruptions is recorded. Repeated, waiting
 * each time until no instance has a call in flight or queued. Prints the first (cold) round, then
 * p50, p99 and the largest of the others, against the 200 ms, and whether any code ran after
 * a sleep. Not a test: {@code java -cp benchmarks/target/sagebus-benchmarks.jar
 * io.sagebus.benchmarks.CancelBenchmark [rounds]}.
 */
public final class CancelBenchmark {

  private static final List<String> CHAIN = List.of("top", "middle", "bottom");
  private static final double TARGET_MS = 200;
  private static final Duration LIMIT = Duration.ofSeconds(30);

  private CancelBenchmark() {
  }

  /** What one round's three invocations did. */
  static final class Round {
    final CountDownLatch started = new CountDownLatch(CHAIN.size());
    final CountDownLatch interrupted = new CountDownLatch(CHAIN.size());
    final AtomicLong lastInterrupt = new AtomicLong();
  }

  /** Calls the next service of the chain (if any) without waiting, then sleeps 30 s. */
  public static final class Chained implements ServiceLifecycle {
    private final String next;
    private final AtomicLong afterSleep;
    private final AtomicReference<Round> round;
    private ServiceContext context;

    Chained(String next, AtomicReference<Round> round, AtomicLong afterSleep) {
      this.next = next;
      this.round = round;
      this.afterSleep = afterSleep;
    }

    @Override
    public void setup(ServiceContext ctx) {
      this.context = ctx;
    }

    /**
     * @param token anything
     * @return {@code token}, should the sleep ever end
     * @throws InterruptedException when the call is cancelled
     */
    public String process(String token) throws InterruptedException {
      Round r = round.get();
      if (next != null) {
        context.services().callAsync(next, token);
      }
      r.started.countDown();
      try {
        Thread.sleep(30_000);
      } catch (InterruptedException e) {
        r.lastInterrupt.accumulateAndGet(System.nanoTime(), Math::max);
        r.interrupted.countDown();
        throw e;
      }
      afterSleep.incrementAndGet();
      return token;
    }
  }

  /**
   * Runs the rounds and prints the figures.
   *
   * @param args optional: rounds (default 200)
   * @throws Exception when a round does not complete within 30 s
   */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    System.out.printf(Locale.ROOT, "CancelBenchmark: %d cores, Java %s, load average %s, %d rounds%n",
      Runtime.getRuntime().availableProcessors(), Runtime.version(), Load.average(), rounds);
    AtomicReference<Round> current = new AtomicReference<>();
    AtomicLong afterSleep = new AtomicLong();
    LocalEnvironment env = LocalEnvironment.create("cancel-bench", new EnvironmentOptions());
    for (int i = 0; i < CHAIN.size(); i++) {
      String next = i + 1 < CHAIN.size() ? CHAIN.get(i + 1) : null;
      env.registerService(CHAIN.get(i), () -> new Chained(next, current, afterSleep), new ServiceOptions());
    }
    env.start().await();
    double[] millis = new double[rounds];
    AtomicInteger notIdle = new AtomicInteger();
    try {
      for (int i = 0; i < rounds; i++) {
        Round r = new Round();
        current.set(r);
        CallHandle<String> handle = env.services().callCancellable("top", CallOptions.create().timeout(Duration.ofSeconds(60)), "t");
        await(r.started, "all three started");
        long cancelled = System.nanoTime();
        handle.cancel();
        await(r.interrupted, "all three interrupted");
        millis[i] = (r.lastInterrupt.get() - cancelled) / 1e6;
        long idleBy = System.nanoTime() + LIMIT.toNanos();
        while (!idle(env)) {
          if (System.nanoTime() - idleBy > 0) {
            throw new IllegalStateException("round " + i + ": a call still in flight or queued after " + LIMIT);
          }
          notIdle.incrementAndGet();
          env.vertx().timer(1, TimeUnit.MILLISECONDS).await();
        }
      }
    } finally {
      env.close().await();
    }
    double first = millis[0];
    double[] rest = Arrays.copyOfRange(millis, 1, rounds);
    Arrays.sort(rest);
    System.out.printf(Locale.ROOT, "cancel at the top -> all three invocations interrupted, one JVM%n");
    System.out.printf(Locale.ROOT, "  first round (cold JVM): %.2f ms%n", first);
    if (rest.length > 0) {
      System.out.printf(Locale.ROOT, "  the other %d rounds: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", rest.length,
        rest[rest.length / 2], rest[Math.min(rest.length - 1, (int) Math.ceil(rest.length * 0.99) - 1)], rest[rest.length - 1]);
    }
    System.out.printf(Locale.ROOT, "  code after a sleep ran: %d times; stats read while not yet idle: %d%n", afterSleep.get(),
      notIdle.get());
    double worst = rest.length > 0 ? Math.max(first, rest[rest.length - 1]) : first;
    System.out.printf(Locale.ROOT, "target: every round within %.0f ms: %s (largest %.2f ms); load average now %s%n", TARGET_MS,
      worst <= TARGET_MS ? "PASS" : "MISS", worst, Load.average());
  }

  private static boolean idle(LocalEnvironment env) {
    for (String s : CHAIN) {
      ServiceStats stats = env.services().stats(s).await();
      if (stats.inFlight() != 0 || stats.queued() != 0) {
        return false;
      }
    }
    return true;
  }

  private static void await(CountDownLatch latch, String what) throws InterruptedException {
    if (!latch.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(what + ": not within " + LIMIT);
    }
  }
}
