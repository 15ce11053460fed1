package io.sagebus;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * Operators chained to their upstream ({@link JobOptions#setChaining(Chaining)}; by default only a sink reading a
 * mapAsync): where they run, what each sees, how they fail and stop, and that a chain keeps what queues kept (order,
 * counts, the cap).
 */
@ExtendWith(VertxExtension.class)
class ChainingTest {

  private Vertx vertx;
  private LocalEnvironment env;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    env = LocalEnvironment.create(vertx, "chains", new EnvironmentOptions());
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  private static JobOptions chained() {
    return new JobOptions().setChaining(true);
  }

  /** Records, per operator, the threads it ran on and the operator its context named. */
  private static final class Seen {
    final Map<String, Thread> threads = new ConcurrentHashMap<>();
    final Map<String, String> contexts = new ConcurrentHashMap<>();

    void saw(String operator, TaskContext context) {
      threads.put(operator, Thread.currentThread());
      contexts.put(operator, context.name());
    }
  }

  private List<Integer> mapFilterFlatMap(Seen seen, JobOptions options) {
    List<Integer> out = new CopyOnWriteArrayList<>();
    env.fromBatch(IntStream.range(0, 50).boxed().toList())
      .map(new MapFunction<Integer, Integer>() {
        @Override
        public Integer execute(Integer v) {
          seen.saw("a", context());
          return v * 2;
        }
      }).name("a")
      .filter(new FilterFunction<Integer>() {
        @Override
        public boolean execute(Integer v) {
          seen.saw("b", context());
          return v % 4 == 0;
        }
      }).name("b")
      .flatMap(new FlatMapFunction<Integer, Integer>() {
        @Override
        public void execute(Integer v, Collector<Integer> collector) {
          seen.saw("c", context());
          collector.collect(v);
          collector.collect(v + 1);
        }
      }).name("c")
      .sink(v -> {
        seen.threads.put("sink", Thread.currentThread());
        out.add(v);
      });
    JobResult r = env.submit(options).await().completion().await();
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(r.operators()).extracting(OperatorStats::name, OperatorStats::recordsIn, OperatorStats::recordsOut)
      .contains(org.assertj.core.groups.Tuple.tuple("a", 50L, 50L), org.assertj.core.groups.Tuple.tuple("b", 50L, 25L),
        org.assertj.core.groups.Tuple.tuple("c", 25L, 50L));
    return out;
  }

  @Test
  void aChainRunsOnOneThreadAndEachFunctionSeesItsOwnOperator() {
    Seen seen = new Seen();
    List<Integer> out = mapFilterFlatMap(seen, new JobOptions().setChaining(true));
    assertThat(out).hasSize(50);
    assertThat(seen.threads.get("b")).isSameAs(seen.threads.get("a"));
    assertThat(seen.threads.get("c")).isSameAs(seen.threads.get("a"));
    assertThat(seen.threads.get("sink")).isSameAs(seen.threads.get("a"));
    assertThat(seen.contexts).containsEntry("a", "a").containsEntry("b", "b").containsEntry("c", "c");
  }

  @Test
  void byDefaultAnOperatorThatIsNotASinkAfterAMapAsyncHasAThreadOfItsOwn() {
    Seen seen = new Seen();
    List<Integer> out = mapFilterFlatMap(seen, new JobOptions());
    assertThat(out).hasSize(50);
    assertThat(seen.threads.values()).doesNotHaveDuplicates();
    assertThat(seen.contexts).containsEntry("a", "a").containsEntry("b", "b").containsEntry("c", "c");
  }

  /** Where a mapAsync started its calls and where what came after it ran, by operator. */
  private Map<String, Set<String>> mapAsyncThenSinks(JobOptions options) {
    Map<String, Set<String>> threads = new ConcurrentHashMap<>();
    List<Integer> sunk = new CopyOnWriteArrayList<>();
    List<Integer> mapped = new CopyOnWriteArrayList<>();
    DataStream<Integer> results = env.fromBatch(IntStream.range(0, 300).boxed().toList())
      .mapAsync(v -> {
        threads.computeIfAbsent("start", k -> ConcurrentHashMap.newKeySet()).add(Thread.currentThread().getName());
        return v % 3 == 0 ? Future.succeededFuture(v) : vertx.timer(1).map(x -> v);
      }, 8, AsyncOrder.ORDERED).name("calls");
    results.sink(v -> {
      threads.computeIfAbsent("sink", k -> ConcurrentHashMap.newKeySet()).add(Thread.currentThread().getName());
      sunk.add(v);
    });
    env.fromBatch(IntStream.range(0, 300).boxed().toList())
      .mapAsync(v -> Future.succeededFuture(v + 1), 8, AsyncOrder.UNORDERED).name("more")
      .map(v -> {
        threads.computeIfAbsent("map", k -> ConcurrentHashMap.newKeySet()).add(Thread.currentThread().getName());
        return v;
      })
      .sink(mapped::add);
    JobResult r = env.submit(options).await().completion().await();
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(sunk).containsExactlyElementsOf(IntStream.range(0, 300).boxed().toList());
    assertThat(mapped).hasSize(300);
    assertThat(r.operators()).filteredOn(o -> o.name().equals("calls"))
      .extracting(OperatorStats::recordsIn, OperatorStats::recordsOut).containsExactly(org.assertj.core.groups.Tuple.tuple(300L, 300L));
    return threads;
  }

  @Test
  void byDefaultASinkReadingAMapAsyncRunsWhereItsResultsAreEmitted() {
    Map<String, Set<String>> threads = mapAsyncThenSinks(new JobOptions());
    assertThat(new JobOptions().getChaining()).isEqualTo(Chaining.ASYNC_SINKS);
    // The mapAsync's own thread (while it waits for a slot, it emits) or its emitter thread: never one of the sink's own.
    assertThat(threads.get("sink")).isNotEmpty()
      .allSatisfy(t -> assertThat(threads.get("start").contains(t) || t.equals("calls#0-emitter")).as(t).isTrue());
    // A map after a mapAsync is not a sink: it has its queue and thread.
    assertThat(threads.get("map")).isNotEmpty().noneMatch(t -> t.contains("more#"));
  }

  @Test
  void withoutChainingASinkReadingAMapAsyncHasAThreadOfItsOwn() {
    Map<String, Set<String>> threads = mapAsyncThenSinks(new JobOptions().setChaining(Chaining.NONE));
    assertThat(threads.get("sink")).isNotEmpty().doesNotContainAnyElementsOf(threads.get("start"))
      .doesNotContain("calls#0-emitter");
  }

  @Test
  void chainedFunctionsOpenBeforeTheirFirstRecordAndCloseOnce() {
    List<String> events = new CopyOnWriteArrayList<>();
    class Step extends MapFunction<Integer, Integer> {
      private final String name;

      Step(String name) {
        this.name = name;
      }

      @Override
      public void open() {
        events.add("open " + name);
      }

      @Override
      public Integer execute(Integer v) {
        if (v == 0) {
          events.add("first " + name);
        }
        return v;
      }

      @Override
      public void close() {
        events.add("close " + name);
      }
    }
    env.fromBatch(List.of(0, 1, 2)).map(new Step("x")).map(new Step("y")).sink(v -> { });
    env.submit(chained()).await().completion().await();
    assertThat(events).containsOnlyOnce("open x", "open y", "close x", "close y");
    assertThat(events.indexOf("open y")).isLessThan(events.indexOf("first x"));
    assertThat(events.indexOf("first y")).isLessThan(events.indexOf("close x"));
  }

  @Test
  void aChainedOperatorThatCannotOpenFailsTheJobInItsOwnName() {
    env.fromBatch(List.of(1, 2)).map(x -> x).name("fine")
      .map(new MapFunction<Integer, Integer>() {
        @Override
        public void open() {
          throw new IllegalStateException("no connection");
        }

        @Override
        public Integer execute(Integer v) {
          return v;
        }
      }).name("broken")
      .sink(v -> { });
    JobFailedException e = catchThrowableOfType(JobFailedException.class,
      () -> env.submit(chained()).await().completion().await());
    assertThat(e.getMessage()).contains("failed in operator broken").contains("no connection");
  }

  @Test
  void anErrorInAChainedOperatorFailsTheJobInItsOwnNameNotUnderItsUpstreamsPolicy() {
    env.fromBatch(List.of(1, 2, 3))
      .mapAsync(v -> Future.succeededFuture(v), 2, AsyncOrder.ORDERED).onError(OnError.SKIP).name("calls")
      .map(new MapFunction<Integer, Integer>() {
        @Override
        public Integer execute(Integer v) {
          if (v == 2) {
            throw new AssertionError("two is not allowed");
          }
          return v;
        }
      }).name("strict")
      .sink(v -> { });
    JobFailedException e = catchThrowableOfType(JobFailedException.class,
      () -> env.submit(chained()).await().completion().await());
    assertThat(e.getMessage()).contains("failed in operator strict").contains("two is not allowed");
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void mapAsyncKeepsInputOrderWhateverOrderItsCallsCompleteIn(boolean chaining) {
    int n = 2_000;
    List<Integer> ordered = new CopyOnWriteArrayList<>();
    List<Integer> unordered = new CopyOnWriteArrayList<>();
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    for (AsyncOrder order : AsyncOrder.values()) {
      env.fromBatch(IntStream.range(0, n).boxed().toList())
        .mapAsync(v -> {
          maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          Promise<Integer> p = Promise.promise();
          int delay = ThreadLocalRandom.current().nextInt(3);
          if (delay == 0) {
            p.complete(v); // at once, on the starting thread
          } else {
            vertx.setTimer(delay, id -> p.complete(v));
          }
          return p.future().andThen(ar -> inFlight.decrementAndGet());
        }, 7, order)
        .map(v -> v) // chained to the mapAsync: runs where its results are emitted
        .sink(order == AsyncOrder.ORDERED ? ordered::add : unordered::add);
    }
    JobResult r = env.submit(new JobOptions().setChaining(chaining)).await().completion().await();
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    List<Integer> all = IntStream.range(0, n).boxed().toList();
    assertThat(ordered).containsExactlyElementsOf(all);
    assertThat(unordered).containsExactlyInAnyOrderElementsOf(all);
    assertThat(maxInFlight.get()).isBetween(1, 14);
  }

  @Test
  void cancellingStopsAChainWaitingForItsCalls() {
    List<String> closed = new CopyOnWriteArrayList<>();
    AtomicInteger started = new AtomicInteger();
    env.fromSource(new SourceFunction<Integer>() {
        @Override
        public void run(Collector<Integer> out) {
          for (int i = 0; !isCancelled(); i++) {
            out.collect(i);
          }
        }
      })
      .map(v -> v + 1)
      .mapAsync(new AsyncFunction<Integer, Integer>() {
        @Override
        public Future<Integer> execute(Integer v) {
          started.incrementAndGet();
          return Promise.<Integer>promise().future(); // never completes
        }

        @Override
        public void close() {
          closed.add("mapAsync");
        }
      }, 3, AsyncOrder.ORDERED)
      .sink(v -> { });
    Job job = env.submit(chained()).await();
    await().atMost(Duration.ofSeconds(30)).until(() -> started.get() == 3);
    JobResult r = job.cancel().await();
    assertThat(r.status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(closed).containsExactly("mapAsync");
    assertThat(started).hasValue(3);
  }

  @Test
  void chainingIsAnOptionWithAJsonForm() {
    assertThat(new JobOptions().getChaining()).isEqualTo(JobOptions.DEFAULT_CHAINING).isEqualTo(Chaining.ASYNC_SINKS);
    assertThat(new JobOptions().isChaining()).isFalse();
    JobOptions on = new JobOptions().setChaining(true);
    assertThat(on.getChaining()).isEqualTo(Chaining.ALL);
    assertThat(on.isChaining()).isTrue();
    assertThat(on.toJson().getString("chaining")).isEqualTo("all");
    assertThat(new JobOptions().toJson().getString("chaining")).isEqualTo("async-sinks");
    assertThat(new JobOptions(new JsonObject().put("chaining", false)).getChaining()).isEqualTo(Chaining.NONE);
    assertThat(new JobOptions(new JsonObject().put("chaining", true))).isEqualTo(on);
    assertThat(new JobOptions(new JsonObject().put("chaining", "none")).getChaining()).isEqualTo(Chaining.NONE);
    assertThat(new JobOptions(new JsonObject().put("chaining", "ASYNC_SINKS")).getChaining()).isEqualTo(Chaining.ASYNC_SINKS);
    assertThat(catchThrowableOfType(IllegalArgumentException.class,
      () -> new JobOptions(new JsonObject().put("chaining", "sometimes")))).hasMessageContaining("sometimes");
    assertThat(new JobOptions(on.toJson())).isEqualTo(on);
    assertThat(new JobOptions(on)).isEqualTo(on);
    assertThat(new JobOptions(new JsonObject())).isEqualTo(new JobOptions());
    assertThat(on).isNotEqualTo(new JobOptions());
  }

  @Test
  void aChainKeepsTheCapOnRecordsInFlight() {
    List<Integer> out = new ArrayList<>();
    env.fromBatch(IntStream.range(0, 5_000).boxed().toList())
      .flatMap(v -> List.of(v, v))
      .mapAsync(v -> vertx.timer(1).map(x -> v), 20, AsyncOrder.UNORDERED)
      .sink(v -> {
        synchronized (out) {
          out.add(v);
        }
      });
    JobResult r = env.submit(new JobOptions().setChaining(true).setMaxRecordsInFlight(64).setQueueCapacity(8)).await()
      .completion().await();
    assertThat(out).hasSize(10_000);
    // A flatMap adds its extra record without waiting: one per record at the cap.
    assertThat(r.peakRecordsInFlight()).isLessThanOrEqualTo(64 + 1);
  }
}
