package io.sagebus;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * A {@code mapAsync} declared {@link DataStream#nonBlocking()}: whatever thread its calls start on, every record comes
 * out once (in input order when ORDERED), at most {@code capacity} calls are in flight, failures follow the operator's
 * policy, a sync call cannot hang it, and it cancels, chains, runs in parallel and serves as any mapAsync.
 */
@ExtendWith(VertxExtension.class)
class NonBlockingMapAsyncTest {

  private static final Duration GENEROUS = Duration.ofSeconds(60);
  private static final String ENV = "nbasync";

  private Vertx vertx;
  private LocalEnvironment env;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    env = LocalEnvironment.create(vertx, ENV, new EnvironmentOptions());
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  /** What the services of a test saw, summed over the services sharing it. */
  static final class Probe {
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();
    final AtomicInteger held = new AtomicInteger();
    final AtomicInteger told = new AtomicInteger();
    final AtomicInteger stopped = new AtomicInteger();
    final AtomicInteger cleaned = new AtomicInteger();
  }

  /**
   * Answers {@code 2 * i} through a Future completed on its event loop: at once, or after a timer of {@code delay} ms
   * (a random 0 to 3 ms when {@code delay} is negative). Fails the records {@code fails} accepts; holds the records from
   * {@code holdFrom} on until their call is cancelled. Counts the calls it runs at once: from the moment
   * {@code process} is entered to the moment its Future completes.
   */
  public static final class Doubler implements ServiceLifecycle {
    private final Probe probe;
    private final int delay;
    private IntPredicate fails = i -> false;
    private int holdFrom = Integer.MAX_VALUE;
    private Vertx loop;

    Doubler(Probe probe, int delay) {
      this.probe = probe;
      this.delay = delay;
    }

    Doubler failing(IntPredicate records) {
      this.fails = records;
      return this;
    }

    Doubler holdingFrom(int record) {
      this.holdFrom = record;
      return this;
    }

    @Override
    public void setup(ServiceContext context) {
      loop = context.vertx();
    }

    /**
     * @param i a number
     * @return twice it
     */
    public Future<Integer> process(Integer i) {
      probe.calls.incrementAndGet();
      probe.maxRunning.accumulateAndGet(probe.running.incrementAndGet(), Math::max);
      Future<Integer> answer;
      if (i >= holdFrom) {
        probe.held.incrementAndGet();
        Promise<Integer> held = Promise.promise();
        CallContext.current().cancelled().onComplete(v -> {
          probe.told.incrementAndGet();
          held.tryFail("the call of " + i + " was cancelled");
        });
        answer = held.future();
      } else if (fails.test(i)) {
        answer = Future.failedFuture(new IllegalArgumentException("the service refuses " + i));
      } else {
        int d = delay >= 0 ? delay : ThreadLocalRandom.current().nextInt(4);
        answer = d == 0 ? Future.succeededFuture(2 * i) : loop.timer(d).map(x -> 2 * i);
      }
      return answer.andThen(ar -> probe.running.decrementAndGet());
    }

    @Override
    public void stop() {
      probe.stopped.incrementAndGet();
    }

    @Override
    public void cleanup() {
      probe.cleaned.incrementAndGet();
    }
  }

  /**
   * Calls the services named, by turns, with {@code callServiceAsync}; counts its calls in flight (from {@code execute}
   * to the completion of the Future it returned) and its closes.
   */
  static final class CallsServices extends AsyncFunction<Integer, Integer> {
    final String[] services;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();

    CallsServices(String... services) {
      this.services = services;
    }

    @Override
    public Future<Integer> execute(Integer i) {
      maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      Future<Integer> call = callServiceAsync(services[i % services.length], i);
      return call.andThen(ar -> inFlight.decrementAndGet());
    }

    @Override
    public void close() {
      closed.incrementAndGet();
    }
  }

  private static final ServiceOptions WIDE = new ServiceOptions().setMaxConcurrency(1024).setMaxQueued(10_000);

  private void registerDoubler(String name, Probe probe, int delay) {
    env.registerService(name, () -> new Doubler(probe, delay), WIDE);
  }

  private static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  private static List<Integer> doubled(int n) {
    return IntStream.range(0, n).map(i -> 2 * i).boxed().toList();
  }

  private static List<Integer> newList() {
    return Collections.synchronizedList(new ArrayList<>());
  }

  /** Submits what was built and waits for its end, at most a minute. */
  private JobResult runToEnd(JobOptions options) {
    Job job = env.submit(options).await();
    try {
      return job.completion().await(GENEROUS.toSeconds(), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("the job did not end within " + GENEROUS + ": " + job.progress(), e);
    }
  }

  private void assertOnlyTheManagerIsLeft() {
    assertThat(env.openResources()).containsExactly("consumer sagebus." + ENV + ".manager");
  }

  private static void assertCounts(JobResult r, String operator, long in, long out, long errors) {
    OperatorStats stats = r.operator(operator);
    assertThat(stats).as(operator).isNotNull();
    assertThat(stats.recordsIn()).as("%s records in", operator).isEqualTo(in);
    assertThat(stats.recordsOut()).as("%s records out", operator).isEqualTo(out);
    assertThat(stats.errors()).as("%s errors", operator).isEqualTo(errors);
  }

  // 1. Every record once; in order when ORDERED.

  @ParameterizedTest(name = "capacity {0}, service delay {1} ms (-1: random 0-3)")
  @CsvSource({"5, -1", "100, -1", "5, 0", "100, 0"})
  void everyRecordArrivesOnceInInputOrderWhenOrderedAndAsASetWhenUnordered(int capacity, int delay) {
    // Two services answering on event loops of their own: a record's call may start where another service's completed.
    Probe probe = new Probe();
    registerDoubler("left", probe, delay);
    registerDoubler("right", probe, delay);
    int n = 3_000;
    CallsServices orderedCalls = new CallsServices("left", "right", "right");
    CallsServices unorderedCalls = new CallsServices("left", "right", "right");
    List<Integer> ordered = newList();
    List<Integer> unordered = newList();
    env.fromBatch(range(n)).mapAsync(orderedCalls, capacity, AsyncOrder.ORDERED).nonBlocking().name("ordered")
      .sink(ordered::add);
    env.fromBatch(range(n)).mapAsync(unorderedCalls, capacity, AsyncOrder.UNORDERED).name("unordered").nonBlocking()
      .sink(unordered::add);
    JobResult r = runToEnd(new JobOptions());
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(ordered).containsExactlyElementsOf(doubled(n));
    assertThat(unordered).containsExactlyInAnyOrderElementsOf(doubled(n));
    assertThat(probe.calls).as("calls the services received").hasValue(2 * n);
    assertCounts(r, "ordered", n, n, 0);
    assertCounts(r, "unordered", n, n, 0);
    assertThat(orderedCalls.maxInFlight.get()).isBetween(1, capacity);
    assertThat(unorderedCalls.maxInFlight.get()).isBetween(1, capacity);
    assertThat(orderedCalls.closed).hasValue(1);
  }

  // 2. At most capacity calls in flight, and the capacity is used.

  @ParameterizedTest(name = "capacity {0}, {1} ms calls, {3}: at least {2} at once")
  @CsvSource({"5, 2, 5, ORDERED", "5, 2, 5, UNORDERED", "100, 5, 10, ORDERED", "100, 5, 10, UNORDERED"})
  void atMostCapacityCallsAreInFlightAtTheServiceAndTheCapacityIsUsed(int capacity, int delay, int reached,
                                                                      AsyncOrder order) {
    Probe probe = new Probe();
    registerDoubler("slow", probe, delay);
    int n = 2_000;
    CallsServices calls = new CallsServices("slow");
    List<Integer> out = newList();
    env.fromBatch(range(n)).mapAsync(calls, capacity, order).nonBlocking().name("bounded").sink(out::add);
    JobResult r = runToEnd(new JobOptions());
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(out).containsExactlyInAnyOrderElementsOf(doubled(n));
    assertThat(probe.maxRunning.get()).as("calls running at once in the service").isBetween(reached, capacity);
    assertThat(calls.maxInFlight.get()).as("calls in flight at once in the operator").isBetween(reached, capacity);
    assertThat(probe.running).as("calls still running").hasValue(0);
  }

  // 3. Futures completed by threads that are no event loop's, or already complete.

  @ParameterizedTest(name = "capacity {0}")
  @ValueSource(ints = {5, 100})
  void futuresCompletedByAPlainScheduledPoolThreadBringEveryRecordInOrder(int capacity) {
    ScheduledExecutorService pool = Executors.newScheduledThreadPool(2);
    try {
      int n = 5_000;
      Map<AsyncOrder, AtomicInteger> inFlight = new ConcurrentHashMap<>();
      Map<AsyncOrder, AtomicInteger> maxInFlight = new ConcurrentHashMap<>();
      Map<AsyncOrder, List<Integer>> out = new ConcurrentHashMap<>();
      for (AsyncOrder order : AsyncOrder.values()) {
        AtomicInteger current = inFlight.computeIfAbsent(order, o -> new AtomicInteger());
        AtomicInteger max = maxInFlight.computeIfAbsent(order, o -> new AtomicInteger());
        List<Integer> sunk = out.computeIfAbsent(order, o -> newList());
        env.fromBatch(range(n))
          .mapAsync(new AsyncFunction<Integer, Integer>() {
            @Override
            public Future<Integer> execute(Integer i) {
              max.accumulateAndGet(current.incrementAndGet(), Math::max);
              Promise<Integer> p = Promise.promise();
              pool.schedule(() -> p.complete(i + 1), ThreadLocalRandom.current().nextInt(4), TimeUnit.MILLISECONDS);
              return p.future().andThen(ar -> current.decrementAndGet());
            }
          }, capacity, order).nonBlocking().name("pool-" + order)
          .sink(sunk::add);
      }
      JobResult r = runToEnd(new JobOptions());
      assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
      List<Integer> expected = IntStream.rangeClosed(1, n).boxed().toList();
      assertThat(out.get(AsyncOrder.ORDERED)).containsExactlyElementsOf(expected);
      assertThat(out.get(AsyncOrder.UNORDERED)).containsExactlyInAnyOrderElementsOf(expected);
      for (AsyncOrder order : AsyncOrder.values()) {
        assertThat(maxInFlight.get(order).get()).as("%s in flight", order).isBetween(1, capacity);
        assertCounts(r, "pool-" + order, n, n, 0);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @ParameterizedTest(name = "capacity {0}")
  @ValueSource(ints = {1, 5, 100})
  void futuresAlreadyCompleteWhenReturnedBringManyRecordsThrough(int capacity) {
    // A call that completes before execute returns: were each next call started inline where the previous completed,
    // the stack would grow with every record.
    int n = 20_000;
    List<Integer> ordered = newList();
    List<Integer> unordered = newList();
    List<Integer> mixed = newList();
    ScheduledExecutorService pool = Executors.newScheduledThreadPool(1);
    try {
      env.fromBatch(range(n)).mapAsync(i -> Future.succeededFuture(-i), capacity, AsyncOrder.ORDERED).nonBlocking()
        .name("done-ordered").sink(ordered::add);
      env.fromBatch(range(n)).mapAsync(i -> Future.succeededFuture(-i), capacity, AsyncOrder.UNORDERED).nonBlocking()
        .name("done-unordered").sink(unordered::add);
      // Runs of calls complete at once behind one that completes later, on another thread.
      env.fromBatch(range(n)).mapAsync(i -> {
        if (i % 50 != 0) {
          return Future.succeededFuture(-i);
        }
        Promise<Integer> p = Promise.promise();
        pool.schedule(() -> p.complete(-i), 1, TimeUnit.MILLISECONDS);
        return p.future();
      }, capacity, AsyncOrder.ORDERED).nonBlocking().name("done-mixed").sink(mixed::add);
      JobResult r = runToEnd(new JobOptions());
      assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
      List<Integer> expected = IntStream.range(0, n).map(i -> -i).boxed().toList();
      assertThat(ordered).containsExactlyElementsOf(expected);
      assertThat(unordered).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(mixed).containsExactlyElementsOf(expected);
    } finally {
      pool.shutdownNow();
    }
  }

  // 4. Failures follow the operator's policy.

  /** Fails a tenth of the records three ways: throws, returns a failed Future, or calls a service that fails. */
  static final class FailsSome extends AsyncFunction<Integer, Integer> {
    @Override
    public Future<Integer> execute(Integer i) {
      if (i % 10 == 3) {
        throw new IllegalArgumentException("refused " + i);
      }
      if (i % 10 == 6) {
        return Future.failedFuture(new IllegalStateException("failed " + i));
      }
      return callServiceAsync("picky", i); // the service fails when i % 10 == 8
    }
  }

  private static boolean failing(int i) {
    return i % 10 == 3 || i % 10 == 6 || i % 10 == 8;
  }

  @ParameterizedTest(name = "capacity {0}")
  @ValueSource(ints = {5, 100})
  void recordsThatFailAreSkippedOrSentToTheSideOutputAndTheOthersArrive(int capacity) {
    Probe probe = new Probe();
    env.registerService("picky", () -> new Doubler(probe, -1).failing(i -> i % 10 == 8), WIDE);
    int n = 3_000;
    List<Integer> skippedOrdered = newList();
    List<Integer> skippedUnordered = newList();
    List<Integer> sideOrdered = newList();
    List<FailedRecord> failed = Collections.synchronizedList(new ArrayList<>());
    env.fromBatch(range(n)).mapAsync(new FailsSome(), capacity, AsyncOrder.ORDERED).nonBlocking()
      .onError(OnError.SKIP).name("skip-ordered").sink(skippedOrdered::add);
    env.fromBatch(range(n)).mapAsync(new FailsSome(), capacity, AsyncOrder.UNORDERED).onError(OnError.SKIP)
      .nonBlocking().name("skip-unordered").sink(skippedUnordered::add);
    DataStream<Integer> side = env.fromBatch(range(n)).mapAsync(new FailsSome(), capacity, AsyncOrder.ORDERED)
      .nonBlocking().name("side");
    side.sink(sideOrdered::add);
    side.failures().sink(failed::add);
    JobResult r = runToEnd(new JobOptions());
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    List<Integer> expected = IntStream.range(0, n).filter(i -> !failing(i)).map(i -> 2 * i).boxed().toList();
    int failures = n - expected.size();
    assertThat(failures).isEqualTo(900);
    assertThat(skippedOrdered).containsExactlyElementsOf(expected);
    assertThat(skippedUnordered).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(sideOrdered).containsExactlyElementsOf(expected);
    assertCounts(r, "skip-ordered", n, expected.size(), failures);
    assertCounts(r, "skip-unordered", n, expected.size(), failures);
    // (Its records out count what went to the side output too.)
    assertThat(r.operator("side").recordsIn()).isEqualTo(n);
    assertThat(r.operator("side").errors()).isEqualTo(failures);
    assertThat(failed).extracting(FailedRecord::record)
      .containsExactlyInAnyOrderElementsOf(IntStream.range(0, n).filter(NonBlockingMapAsyncTest::failing).boxed().toList());
    assertThat(failed).allSatisfy(f -> {
      int i = (Integer) f.record();
      assertThat(f.operator()).isEqualTo("side");
      switch (i % 10) {
        case 3 -> assertThat(f.error()).isEqualTo(IllegalArgumentException.class.getName());
        case 6 -> assertThat(f.error()).isEqualTo(IllegalStateException.class.getName());
        default -> assertThat(f.message()).contains("the service refuses " + i);
      }
    });
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"throws", "failed future", "failing service"})
  void aRecordThatFailsUnderTheDefaultPolicyFailsTheJobAndNothingAfterItComesOut(String how) {
    Probe probe = new Probe();
    env.registerService("picky", () -> new Doubler(probe, -1).failing(i -> i == 1234), WIDE);
    int n = 3_000;
    List<Integer> out = newList();
    env.fromBatch(range(n)).mapAsync(new AsyncFunction<Integer, Integer>() {
      @Override
      public Future<Integer> execute(Integer i) {
        if (i == 1234 && how.equals("throws")) {
          throw new IllegalArgumentException("refused " + i);
        }
        if (i == 1234 && how.equals("failed future")) {
          return Future.failedFuture(new IllegalStateException("failed " + i));
        }
        return callServiceAsync("picky", i);
      }
    }, 5, AsyncOrder.ORDERED).nonBlocking().name("strict").sink(out::add);
    Job job = env.submit().await();
    JobFailedException e = catchThrowableOfType(JobFailedException.class,
      () -> job.completion().await(GENEROUS.toSeconds(), TimeUnit.SECONDS));
    assertThat(e).as("the job failed").isNotNull();
    assertThat(e.getMessage()).contains("strict", "1234");
    switch (how) {
      case "throws" -> assertThat(e.getCause()).isInstanceOf(IllegalArgumentException.class);
      case "failed future" -> assertThat(e.getCause()).isInstanceOf(IllegalStateException.class);
      default -> assertThat(e.getCause()).isInstanceOf(ServiceException.class).hasMessageContaining("refuses 1234");
    }
    assertThat(e.result().status()).isEqualTo(JobStatus.FAILED);
    assertThat(job.status()).isEqualTo(JobStatus.FAILED);
    // In input order: a prefix of the results, without the failed record's nor any after it.
    List<Integer> got = List.copyOf(out);
    assertThat(got.size()).isLessThanOrEqualTo(1234);
    assertThat(got).containsExactlyElementsOf(doubled(n).subList(0, got.size()));
    assertThat(probe.stopped).hasValue(1);
    assertThat(probe.cleaned).hasValue(1);
    assertOnlyTheManagerIsLeft();
  }

  // 5. A sync call from a nonBlocking function.

  @Test
  void aSyncCallInsideANonBlockingFunctionFailsOnlyItsRecordAndHangsNothing() {
    // Even records call without waiting, odd ones with a sync call: where the latter runs on an event loop it fails
    // with IllegalStateException (which records do depends on where they run); none may hang the job or be lost.
    Probe probe = new Probe();
    registerDoubler("doubler", probe, -1);
    int n = 2_000;
    AsyncFunction<Integer, Integer> mixed = new AsyncFunction<>() {
      @Override
      public Future<Integer> execute(Integer i) {
        if (i % 2 == 0) {
          return callServiceAsync("doubler", i);
        }
        Integer v = callService("doubler", i);
        return Future.succeededFuture(v);
      }
    };
    List<Integer> skipped = newList();
    List<Integer> unordered = newList();
    List<Integer> sided = newList();
    List<FailedRecord> failed = Collections.synchronizedList(new ArrayList<>());
    env.fromBatch(range(n)).mapAsync(mixed, 5, AsyncOrder.ORDERED).nonBlocking().onError(OnError.SKIP)
      .name("sync-skip").sink(skipped::add);
    env.fromBatch(range(n)).mapAsync(mixed, 5, AsyncOrder.UNORDERED).nonBlocking().onError(OnError.SKIP)
      .name("sync-unordered").sink(unordered::add);
    DataStream<Integer> side = env.fromBatch(range(n)).mapAsync(mixed, 5, AsyncOrder.ORDERED).nonBlocking()
      .name("sync-side");
    side.sink(sided::add);
    side.failures().sink(failed::add);
    JobResult r = runToEnd(new JobOptions());
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    List<Integer> evens = IntStream.range(0, n).filter(i -> i % 2 == 0).map(i -> 2 * i).boxed().toList();
    for (var entry : Map.of("sync-skip", skipped, "sync-unordered", unordered, "sync-side", sided).entrySet()) {
      String op = entry.getKey();
      List<Integer> got = List.copyOf(entry.getValue());
      assertThat(got).as(op).doesNotHaveDuplicates().containsAll(evens)
        .allSatisfy(v -> assertThat(v % 2).isZero()).allSatisfy(v -> assertThat(v).isBetween(0, 2 * (n - 1)));
      OperatorStats stats = r.operator(op);
      assertThat(stats.recordsIn()).as(op).isEqualTo(n);
      assertThat(got.size() + stats.errors()).as("%s: results and errors", op).isEqualTo(n);
    }
    assertThat(skipped).isSorted();
    assertThat(sided).isSorted();
    assertThat(failed).hasSize((int) r.operator("sync-side").errors()).allSatisfy(f -> {
      assertThat((Integer) f.record() % 2).as("only a sync call fails").isOne();
      assertThat(f.error()).isEqualTo(IllegalStateException.class.getName());
    });
    assertThat(r.errors()).allSatisfy(error -> assertThat(error).contains("IllegalStateException"));
  }

  // 6. Only a mapAsync's output can be declared nonBlocking.

  @Test
  void nonBlockingIsOnlyForTheOutputOfAMapAsync() {
    DataStream<Integer> source = env.fromBatch(List.of(1, 2, 3));
    assertThatThrownBy(source::nonBlocking).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> source.map(i -> i + 1).nonBlocking()).isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("mapAsync");
    assertThatThrownBy(() -> source.filter(i -> i > 1).nonBlocking()).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> source.flatMap(i -> List.of(i, i)).nonBlocking()).isInstanceOf(IllegalStateException.class);
    DataStream<Integer> async = source.mapAsync(i -> Future.succeededFuture(i), 2, AsyncOrder.ORDERED).name("async");
    assertThatThrownBy(() -> async.failures().nonBlocking()).isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("mapAsync");
    assertThatThrownBy(() -> async.map(i -> i).nonBlocking()).isInstanceOf(IllegalStateException.class);
    assertThat(async.nonBlocking()).isSameAs(async);
    assertThat(async.nonBlocking().nonBlocking()).as("declared twice").isSameAs(async);
  }

  @Test
  void aRejectedDeclarationLeavesThePipelineAsItWas() {
    List<Integer> out = newList();
    DataStream<Integer> mapped = env.fromBatch(range(100)).map(i -> i * 3).name("triple");
    assertThatThrownBy(mapped::nonBlocking).isInstanceOf(IllegalStateException.class);
    mapped.mapAsync(i -> Future.succeededFuture(i + 1), 4, AsyncOrder.ORDERED).nonBlocking().sink(out::add);
    JobResult r = runToEnd(new JobOptions());
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(out).containsExactlyElementsOf(IntStream.range(0, 100).map(i -> i * 3 + 1).boxed().toList());
  }

  // 7. Cancelled mid-way.

  /** An endless source of 0, 1, 2, ... */
  static final class Counting extends SourceFunction<Integer> {
    @Override
    public void run(Collector<Integer> out) {
      for (int i = 0; !isCancelled(); i++) {
        out.collect(i);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(AsyncOrder.class)
  void aJobCancelledWhileItsCallsFlowEndsAndItsServicesAreCleanedUp(AsyncOrder order) throws Exception {
    Probe probe = new Probe();
    registerDoubler("doubler", probe, -1);
    CallsServices calls = new CallsServices("doubler");
    List<Integer> out = newList();
    env.fromSource(new Counting()).mapAsync(calls, 8, order).nonBlocking().name("flowing").sink(out::add);
    Job job = env.submit().await();
    await().atMost(GENEROUS).until(() -> out.size() >= 2_000);
    JobResult r = job.cancel().await(GENEROUS.toSeconds(), TimeUnit.SECONDS);
    assertThat(r.status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(job.status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(job.completion().await().status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(calls.closed).as("the function closed").hasValue(1);
    assertThat(probe.stopped).hasValue(1);
    assertThat(probe.cleaned).hasValue(1);
    assertOnlyTheManagerIsLeft();
    LifecycleAndCleanupTest.assertNoHandlers(vertx, "sagebus." + ENV + ".service.doubler");
    List<Integer> got = List.copyOf(out);
    assertThat(got).doesNotHaveDuplicates().allSatisfy(v -> assertThat(v % 2).isZero());
    if (order == AsyncOrder.ORDERED) {
      assertThat(got).containsExactlyElementsOf(doubled(got.size()));
    }
  }

  @ParameterizedTest
  @EnumSource(AsyncOrder.class)
  void aJobCancelledWhileItsCallsHangCancelsThemEndsAndCleansUp(AsyncOrder order) {
    // Records from 500 on are held by the service until their call is cancelled; with a drain timeout of a minute,
    // only the job's cancel of its calls ends them in time.
    Probe probe = new Probe();
    int capacity = 5;
    env.registerService("holding", () -> new Doubler(probe, -1).holdingFrom(500),
      new ServiceOptions().setMaxConcurrency(64).setDrainTimeout(Duration.ofSeconds(60)));
    CallsServices calls = new CallsServices("holding");
    List<Integer> out = newList();
    env.fromSource(new Counting()).mapAsync(calls, capacity, order).nonBlocking().name("hanging").sink(out::add);
    Job job = env.submit().await();
    await("every slot held").atMost(GENEROUS).until(() -> probe.held.get() == capacity && out.size() == 500);
    JobResult r;
    try {
      r = job.cancel().await(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("the cancel did not end the held calls", e);
    }
    assertThat(r.status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(probe.held).as("calls held").hasValue(capacity);
    assertThat(probe.told).as("held calls told of their cancel").hasValue(capacity);
    assertThat(probe.running).as("calls still running").hasValue(0);
    assertThat(calls.closed).as("the function closed").hasValue(1);
    assertThat(probe.stopped).hasValue(1);
    assertThat(probe.cleaned).hasValue(1);
    assertOnlyTheManagerIsLeft();
    LifecycleAndCleanupTest.assertNoHandlers(vertx, "sagebus." + ENV + ".service.holding");
    if (order == AsyncOrder.ORDERED) {
      assertThat(out).containsExactlyElementsOf(doubled(500));
    } else {
      assertThat(out).containsExactlyInAnyOrderElementsOf(doubled(500));
    }
  }

  // 8. Parallel instances.

  @ParameterizedTest
  @EnumSource(AsyncOrder.class)
  void parallelInstancesBringEveryRecordEachInItsInstancesInputOrderWhenOrdered(AsyncOrder order) {
    Probe probe = new Probe();
    registerDoubler("doubler", probe, -1);
    int n = 3_000;
    int capacity = 5;
    int parallelism = 3;
    Map<Integer, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    Map<Integer, AtomicInteger> maxInFlight = new ConcurrentHashMap<>();
    List<int[]> out = Collections.synchronizedList(new ArrayList<>());
    env.fromBatch(range(n))
      .mapAsync(new AsyncFunction<Integer, int[]>() {
        @Override
        public Future<int[]> execute(Integer i) {
          int instance = index();
          AtomicInteger current = inFlight.computeIfAbsent(instance, k -> new AtomicInteger());
          maxInFlight.computeIfAbsent(instance, k -> new AtomicInteger())
            .accumulateAndGet(current.incrementAndGet(), Math::max);
          return callServiceAsync("doubler", i).map(v -> new int[]{instance, (Integer) v})
            .andThen(ar -> current.decrementAndGet());
        }
      }, capacity, order, parallelism).nonBlocking().name("parallel")
      .sink(out::add);
    JobResult r = runToEnd(new JobOptions());
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(out).extracting(p -> p[1]).containsExactlyInAnyOrderElementsOf(doubled(n));
    assertThat(out).extracting(p -> p[0]).allSatisfy(i -> assertThat(i).isBetween(0, parallelism - 1));
    assertThat(r.operator("parallel").parallelism()).isEqualTo(parallelism);
    assertCounts(r, "parallel", n, n, 0);
    assertThat(maxInFlight).isNotEmpty().allSatisfy((instance, max) -> assertThat(max.get()).isBetween(1, capacity));
    assertThat(probe.maxRunning.get()).isBetween(1, parallelism * capacity);
    assertThat(probe.calls).hasValue(n);
    if (order == AsyncOrder.ORDERED) {
      // Each instance gets its records in input order, and emits its results in that order.
      for (int instance = 0; instance < parallelism; instance++) {
        int k = instance;
        assertThat(out.stream().filter(p -> p[0] == k).map(p -> p[1]).toList()).as("instance %d", k).isSorted();
      }
    }
  }

  // 9. Chaining.

  @ParameterizedTest
  @EnumSource(Chaining.class)
  void withEveryChainingModeTwoNonBlockingMapAsyncsInARowKeepOrderAndCapacity(Chaining chaining) {
    Probe probe = new Probe();
    registerDoubler("left", probe, -1);
    registerDoubler("right", probe, -1);
    int n = 3_000;
    int capacity = 5;
    Map<AsyncOrder, CallsServices> firsts = new ConcurrentHashMap<>();
    Map<AsyncOrder, CallsServices> seconds = new ConcurrentHashMap<>();
    Map<AsyncOrder, List<Integer>> out = new ConcurrentHashMap<>();
    for (AsyncOrder order : AsyncOrder.values()) {
      CallsServices first = firsts.computeIfAbsent(order, o -> new CallsServices("left", "right"));
      CallsServices second = seconds.computeIfAbsent(order, o -> new CallsServices("right", "left"));
      List<Integer> sunk = out.computeIfAbsent(order, o -> newList());
      env.fromBatch(range(n))
        .map(i -> i + 1)
        .mapAsync(first, capacity, order).nonBlocking().name("first-" + order)
        .mapAsync(second, capacity, order).nonBlocking().name("second-" + order)
        .map(v -> v - 4)
        .sink(sunk::add);
    }
    JobResult r = runToEnd(new JobOptions().setChaining(chaining));
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    List<Integer> expected = IntStream.range(0, n).map(i -> 4 * i).boxed().toList();
    assertThat(out.get(AsyncOrder.ORDERED)).containsExactlyElementsOf(expected);
    assertThat(out.get(AsyncOrder.UNORDERED)).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(probe.calls).hasValue(4 * n);
    for (AsyncOrder order : AsyncOrder.values()) {
      assertCounts(r, "first-" + order, n, n, 0);
      assertCounts(r, "second-" + order, n, n, 0);
      assertThat(firsts.get(order).maxInFlight.get()).isBetween(1, capacity);
      assertThat(seconds.get(order).maxInFlight.get()).isBetween(1, capacity);
    }
  }

  // 10. In a pipeline served as a service.

  @ParameterizedTest
  @EnumSource(AsyncOrder.class)
  void aServedPipelineWithANonBlockingMapAsyncAnswersEveryCallWithItsOwnRecords(AsyncOrder order) {
    Probe probe = new Probe();
    registerDoubler("doubler", probe, -1);
    env.servePipeline("tripled", in -> in
      .flatMap(o -> List.of((Integer) o, (Integer) o + 1, (Integer) o + 2))
      .mapAsync(new AsyncFunction<Integer, Integer>() {
        @Override
        public Future<Integer> execute(Integer i) {
          return callServiceAsync("doubler", i);
        }
      }, 5, order).nonBlocking().name("served-calls"));
    env.start().await();
    JsonArray one = env.services().call("tripled", 10);
    assertThat(one).containsExactlyInAnyOrder(20, 22, 24);
    int calls = 300;
    List<Future<JsonArray>> answers = new ArrayList<>();
    for (int c = 0; c < calls; c++) {
      answers.add(env.services().callAsync("tripled", CallOptions.create().timeout(GENEROUS), 10 * c));
    }
    for (int c = 0; c < calls; c++) {
      JsonArray answer;
      try {
        answer = answers.get(c).await(GENEROUS.toSeconds(), TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError("call " + c + " got no answer", e);
      }
      assertThat(answer).as("call %d", c).containsExactlyInAnyOrder(20 * c, 20 * c + 2, 20 * c + 4);
    }
    assertThat(probe.calls).hasValue(3 * (calls + 1));
  }
}
