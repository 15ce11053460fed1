package io.sagebus;

import io.sagebus.testing.EchoService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class PipelineTest {

  private Vertx vertx;
  private LocalEnvironment env;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    env = LocalEnvironment.create(vertx, "pipes", new EnvironmentOptions());
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  /** Scores users, like SAGE's sample. */
  public static class ProfileService {
    public JsonObject process(String userId) {
      return new JsonObject().put("user_id", userId).put("score", userId.length() * 10);
    }
  }

  /** Enriches a record with its profile: the seed's example. */
  static class Enrich extends MapFunction<JsonObject, JsonObject> {
    @Override
    public JsonObject execute(JsonObject record) {
      JsonObject profile = callService("profile", record.getString("user_id"));
      return record.copy().put("profile", profile);
    }
  }

  @Test
  void batchThroughAServiceCallingMapIntoASink() {
    env.registerService("profile", ProfileService.class);
    List<JsonObject> out = new CopyOnWriteArrayList<>();
    env.fromBatch(List.of(new JsonObject().put("user_id", "ada"), new JsonObject().put("user_id", "bob")))
      .map(new Enrich())
      .sink(out::add);
    Job job = env.submit().await();
    JobResult result = job.completion().await();
    assertThat(result.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(job.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(out).extracting(o -> o.getJsonObject("profile").getInteger("score")).containsExactly(30, 30);
    assertThat(result.operator("map#2").recordsIn()).isEqualTo(2);
    assertThat(result.operator("map#2").recordsOut()).isEqualTo(2);
    assertThat(result.operator("map#2").name()).isEqualTo("map#2(Enrich)");
  }

  @Test
  void namingTheSinkNamesTheSinkNotTheOperatorBeforeIt() {
    List<Integer> out = new CopyOnWriteArrayList<>();
    List<Integer> also = new CopyOnWriteArrayList<>();
    DataStream<Integer> doubled = env.fromBatch(List.of(1, 2, 3)).map((Integer x) -> x * 2).name("double");
    doubled.sink(out::add).name("collect").stream().sink(also::add).name("again");
    JobResult r = env.submit().await().completion().await();
    assertThat(r.operator("double").recordsOut()).isEqualTo(3);
    assertThat(r.operator("collect").recordsIn()).isEqualTo(3);
    assertThat(r.operator("again").recordsIn()).isEqualTo(3);
    assertThat(out).containsExactlyInAnyOrder(2, 4, 6);
    assertThat(also).containsExactlyInAnyOrder(2, 4, 6);
  }

  @Test
  void afterABatchTheJobsServicesAreStoppedAndNothingIsLeftRunning() {
    AtomicInteger stopped = new AtomicInteger();
    AtomicInteger cleaned = new AtomicInteger();
    env.registerService("profile", () -> new Object() {
      @SuppressWarnings("unused")
      public String process(String id) {
        return id.toUpperCase();
      }
    }).registerService("tracked", () -> new ServiceLifecycle() {
      @Override
      public void stop() {
        stopped.incrementAndGet();
      }

      @Override
      public void cleanup() {
        cleaned.incrementAndGet();
      }
    });
    List<String> out = new CopyOnWriteArrayList<>();
    env.fromBatch(Stream.of("a", "b", "c")).map(s -> (String) env.services().call("profile", s)).sink(out::add);
    env.submit().await().completion().await();
    assertThat(out).containsExactly("A", "B", "C");
    assertThat(stopped).hasValue(1);
    assertThat(cleaned).hasValue(1);
    assertThat(env.openResources()).containsExactly("consumer sagebus.pipes.manager");
    LifecycleAndCleanupTest.assertNoHandlers(vertx, "sagebus.pipes.service.profile");
    assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("map#"));
  }

  @Test
  void servicesStartedByTheUserOutliveTheJob() {
    env.registerService("echo", EchoService.class);
    env.start().await();
    env.fromBatch(List.of(1, 2)).map(i -> (Integer) env.services().call("echo", i)).sink(i -> { });
    env.submit().await().completion().await();
    assertThat((Object) env.services().call("echo", 5)).isEqualTo(5);
  }

  @Test
  void filterAndFlatMapCountRecords() {
    List<Integer> out = Collections.synchronizedList(new ArrayList<>());
    env.fromBatch(IntStream.rangeClosed(1, 10).boxed().toList())
      .filter(i -> i % 2 == 0)
      .flatMap(i -> List.of(i, i * 100))
      .sink(out::add);
    JobResult r = env.submit().await().completion().await();
    assertThat(out).containsExactly(2, 200, 4, 400, 6, 600, 8, 800, 10, 1000);
    assertThat(r.operator("filter#2").recordsIn()).isEqualTo(10);
    assertThat(r.operator("filter#2").recordsOut()).isEqualTo(5);
    assertThat(r.operator("flatMap#3").recordsOut()).isEqualTo(10);
    assertThat(r.operator("sink#4").recordsIn()).isEqualTo(10);
  }

  @Test
  void keyBySendsEqualKeysToOneInstanceAndEndsAfterEveryUpstreamEnded() {
    Map<String, Map<Integer, AtomicInteger>> seen = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    List<String> keys = List.of("a", "b", "c", "d", "e");
    env.fromBatch(IntStream.range(0, 3000).mapToObj(i -> keys.get(i % 5)).toList())
      .map(s -> s, 3)
      .keyBy(s -> s)
      .sink(new SinkFunction<String>() {
        @Override
        public void execute(String key) {
          seen.computeIfAbsent(key, k -> new ConcurrentHashMap<>()).computeIfAbsent(index(), i -> new AtomicInteger())
            .incrementAndGet();
          counts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        }
      }, 2);
    JobResult r = env.submit().await().completion().await();
    assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(keys);
    counts.values().forEach(c -> assertThat(c).hasValue(600));
    seen.values().forEach(byInstance -> assertThat(byInstance).hasSize(1));
    assertThat(r.operator("map#2").parallelism()).isEqualTo(3);
  }

  @Test
  void operatorExceptionFailsTheJobNamingOperatorRecordAndCause() {
    AtomicInteger cleaned = new AtomicInteger();
    env.registerService("tracked", () -> new ServiceLifecycle() {
      @Override
      public void cleanup() {
        cleaned.incrementAndGet();
      }
    });
    env.fromBatch(List.of(new JsonObject().put("n", 1), new JsonObject().put("n", 0)))
      .map(o -> 10 / o.getInteger("n")).name("divide")
      .sink(i -> { });
    Job job = env.submit().await();
    JobFailedException e = catchThrowableOfType(JobFailedException.class, () -> job.completion().await());
    assertThat(e.getMessage()).contains("divide", "{\"n\":0}", "ArithmeticException");
    assertThat(e.getCause()).isInstanceOf(ArithmeticException.class);
    assertThat(e.result().status()).isEqualTo(JobStatus.FAILED);
    assertThat(job.status()).isEqualTo(JobStatus.FAILED);
    assertThat(cleaned).hasValue(1);
    assertThat(env.openResources()).containsExactly("consumer sagebus.pipes.manager");
  }

  @Test
  void errorHandlersSkipOrSideOutput() {
    List<Integer> ok = new CopyOnWriteArrayList<>();
    List<FailedRecord> failed = new CopyOnWriteArrayList<>();
    DataStream<Integer> divided = env.fromBatch(List.of(1, 0, 2, 0, 5)).map(n -> 10 / n).name("divide");
    divided.sink(ok::add);
    divided.failures().sink(failed::add);
    env.fromBatch(List.of(1, 0)).map(n -> 10 / n).onError(OnError.SKIP).sink(ok::add);
    JobResult r = env.submit().await().completion().await();
    assertThat(ok).containsExactlyInAnyOrder(10, 5, 2, 10);
    assertThat(failed).hasSize(2).allSatisfy(f -> {
      assertThat(f.operator()).isEqualTo("divide");
      assertThat(f.record()).isEqualTo(0);
      assertThat(f.error()).isEqualTo(ArithmeticException.class.getName());
    });
    assertThat(r.operator("divide").errors()).isEqualTo(2);
    // As OperatorStats.recordsOut says: its 3 results and the 2 failed records it sent to its side output.
    assertThat(r.operator("divide").recordsOut()).isEqualTo(5);
    assertThat(r.errors()).hasSize(3);
  }

  @Test
  void nullRecordsGetAClearErrorNamingTheOperator() {
    env.fromBatch(List.of("x")).map(s -> (String) null).name("nuller").sink(s -> { });
    JobFailedException e = catchThrowableOfType(JobFailedException.class,
      () -> env.submit().await().completion().await());
    assertThat(e.getMessage()).contains("nuller", "null records are not allowed");
    List<String> withNull = new ArrayList<>();
    withNull.add(null);
    env.fromBatch(withNull).sink(s -> { });
    JobFailedException e2 = catchThrowableOfType(JobFailedException.class,
      () -> env.submit().await().completion().await());
    assertThat(e2.getMessage()).contains("batch#", "null record");
  }

  @Test
  void recordThatJacksonCannotMapNamesTheOperator() {
    env.registerService("echo", EchoService.class);
    env.fromBatch(List.of(new Object() {
      @SuppressWarnings("unused")
      public Object getSelf() {
        return this;
      }
    })).map(new MapFunction<Object, Object>() {
      @Override
      public Object execute(Object value) {
        return callService("echo", value);
      }
    }).name("send").sink(o -> { });
    JobFailedException e = catchThrowableOfType(JobFailedException.class,
      () -> env.submit().await().completion().await());
    assertThat(e.getMessage()).contains("send", "BAD_ARGUMENTS", "cannot be mapped to JSON");
  }

  @Test
  void invalidGraphsFailAtSubmit() {
    assertThatThrownBy(() -> env.submit().await()).isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("Nothing to submit");
    assertThatThrownBy(() -> env.fromBatch(List.of(1)).map(i -> i, 0))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parallelism");
    env.fromBatch(List.of(1)).map(i -> i);
    assertThatThrownBy(() -> env.submit().await()).isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("not consumed");
    env.fromBatch(List.of(1)).sink(i -> { });
    env.fromBatch(List.of(1)).filter(i -> true);
    assertThatThrownBy(() -> env.submit().await()).isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("filter#");
    env.fromBatch(List.of(1)).map(i -> i).uses("ghost").sink(i -> { });
    ServiceNotFoundException e = catchThrowableOfType(ServiceNotFoundException.class, () -> env.submit().await());
    assertThat(e.service()).isEqualTo("ghost");
  }

  @Test
  void sourceRunsUntilCancelled() {
    AtomicInteger emitted = new AtomicInteger();
    List<Integer> out = new CopyOnWriteArrayList<>();
    env.fromSource(new SourceFunction<Integer>() {
      @Override
      public void run(Collector<Integer> collector) {
        while (!isCancelled()) {
          collector.collect(emitted.incrementAndGet());
        }
      }
    }).sink(out::add);
    Job job = env.submit().await();
    await().atMost(Duration.ofSeconds(10)).until(() -> out.size() > 1000);
    JobResult r = job.cancel().await();
    assertThat(r.status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(job.status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(job.completion().await().status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(env.openResources()).containsExactly("consumer sagebus.pipes.manager");
  }

  @Test
  void closingTheEnvironmentCancelsAStreamingJob() {
    env.fromSource(new SourceFunction<Integer>() {
      @Override
      public void run(Collector<Integer> collector) {
        int i = 0;
        while (!isCancelled()) {
          collector.collect(i++);
        }
      }
    }).sink(i -> { });
    Job job = env.submit().await();
    env.close().await();
    assertThat(job.status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(env.openResources()).isEmpty();
  }

  @Test
  void manyInstancesHoldingBackGatePlacesNeitherStallNorLeaveAnyInFlight() throws Exception {
    // Sinks and filters give their places at the in-flight gate back a few at a time (a sixteenth of the cap here:
    // 4), and before they wait for input; the source takes a few at once. With sixteen instances of each, what they
    // could hold back together is more than the cap: the job must still run through, within the cap, and end with
    // nothing in flight.
    AtomicInteger seen = new AtomicInteger();
    env.fromBatch(IntStream.range(0, 20_000).boxed())
      .map(i -> i + 1, 16)
      .filter(i -> i % 5 != 0, 16)
      .sink(new SinkFunction<Integer>() {
        @Override
        public void execute(Integer i) {
          seen.incrementAndGet();
        }
      }, 16);
    Job job = env.submit(new JobOptions().setMaxRecordsInFlight(64).setQueueCapacity(4)).await();
    JobResult r = job.completion().await(60, TimeUnit.SECONDS);
    assertThat(seen.get()).isEqualTo(16_000);
    assertThat(r.peakRecordsInFlight()).isBetween(1L, 64L);
    assertThat(job.progress().recordsInFlight()).isZero();
  }

  @Test
  void peakRecordsInFlightStaysUnderTheCap() {
    env.fromBatch(IntStream.range(0, 20_000).boxed())
      .map(i -> i + 1, 2)
      .filter(i -> i % 3 != 0)
      .sink(i -> { });
    JobResult r = env.submit(new JobOptions().setMaxRecordsInFlight(50).setQueueCapacity(16)).await().completion().await();
    assertThat(r.peakRecordsInFlight()).isBetween(1L, 50L);
    assertThat(r.maxRecordsInFlight()).isEqualTo(50);
    assertThat(r.operator("sink#4").recordsIn()).isEqualTo(20_000 - 20_000 / 3 - 1 + 1);
  }

  @Test
  void connectedStreamsAreCoMapped() {
    List<String> out = new CopyOnWriteArrayList<>();
    DataStream<Integer> numbers = env.fromBatch(List.of(1, 2, 3));
    DataStream<String> words = env.fromBatch(List.of("x", "y"));
    numbers.connect(words).coMap(n -> "n" + n, w -> "w" + w).sink(out::add);
    env.submit().await().completion().await();
    assertThat(out).containsExactlyInAnyOrder("n1", "n2", "n3", "wx", "wy");
  }

  @Test
  void anOperatorsRetryPolicyAppliesToItsServiceCalls() {
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    env.registerService("flaky", () -> new io.sagebus.testing.FlakyService(1, calls),
      new ServiceOptions().setMaxConcurrency(2).setDrainTimeout(Duration.ofMillis(100)));
    List<Object> out = new CopyOnWriteArrayList<>();
    env.fromBatch(List.of("only"))
      .map(new MapFunction<String, Object>() {
        @Override
        public Object execute(String value) {
          return callService("flaky", value);
        }
      })
      .retry(new RetryPolicy().setAttemptTimeout(Duration.ofMillis(500)).setInitialBackoff(Duration.ofMillis(10)))
      .sink(out::add);
    env.submit().await().completion().await();
    assertThat(out).containsExactly("only");
    // The first attempt hangs and is retried after its attempt timeout; on a loaded machine the second may miss the
    // 500 ms too and a third one answers: at least one retry, and the record once.
    assertThat(calls.get()).isBetween(2, 5);
  }

  /** Answers on its event loop: at once for an even number, after a 1 ms timer for an odd one. */
  public static class LoopAnswers implements ServiceLifecycle {
    private Vertx vertx;

    @Override
    public void setup(ServiceContext context) {
      vertx = context.vertx();
    }

    /**
     * @param i a number
     * @return {@code i}, answered on the service's event loop
     */
    public Future<Integer> process(Integer i) {
      return i % 2 == 0 ? Future.succeededFuture(i) : vertx.timer(1).map(x -> i);
    }
  }

  @Test
  void mapAsyncHearsEveryCompletionOfCallsAnsweredOnSeveralEventLoops() {
    // Completions on an event loop wake the operator once the loop's run of tasks is over; two services answer on
    // event-loop contexts of their own (usually two different loops), often several at once, while the operator's
    // thread keeps waiting for a free slot.
    env.registerService("left", LoopAnswers.class, new ServiceOptions().setMaxConcurrency(64));
    env.registerService("right", LoopAnswers.class, new ServiceOptions().setMaxConcurrency(64));
    int n = 4_000;
    List<Integer> expected = IntStream.range(0, n).boxed().toList();
    List<Integer> ordered = new CopyOnWriteArrayList<>();
    List<Integer> unordered = new CopyOnWriteArrayList<>();
    AsyncFunction<Integer, Integer> either = new AsyncFunction<>() {
      @Override
      public Future<Integer> execute(Integer i) {
        return callServiceAsync(i % 3 == 0 ? "left" : "right", i);
      }
    };
    env.fromBatch(expected).mapAsync(either, 3, AsyncOrder.ORDERED).sink(ordered::add);
    env.fromBatch(expected).mapAsync(either, 16, AsyncOrder.UNORDERED).sink(unordered::add);
    try {
      env.submit().await().completion().await(2, TimeUnit.MINUTES);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("the job did not end: " + ordered.size() + " and " + unordered.size() + " of " + n
        + " records came out", e);
    }
    assertThat(ordered).containsExactlyElementsOf(expected);
    assertThat(unordered).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void orderedMapAsyncKeepsOrderWhenItsCallsCompleteOnOtherThreadsAtAnyTime() throws Exception {
    // A small capacity and many records: the calls go round the ordered results' places again and again, completed
    // before the operator hears of them (at once) or later, by four threads racing it and one another.
    int n = 20_000;
    int capacity = 5;
    java.util.concurrent.ExecutorService completers = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<Integer> out = Collections.synchronizedList(new ArrayList<>(n));
      AtomicInteger inFlight = new AtomicInteger();
      AtomicInteger maxInFlight = new AtomicInteger();
      env.fromBatch(IntStream.range(0, n).boxed().toList())
        .mapAsync(i -> {
          maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          io.vertx.core.Promise<Integer> p = io.vertx.core.Promise.promise();
          if (i >= n - capacity) {
            // The last calls are still running when the end goes in after them: every place of the ring is taken.
            env.vertx().setTimer(50, t -> completers.execute(() -> p.complete(i)));
          } else if (i % 3 == 0) {
            p.complete(i);
          } else {
            completers.execute(() -> p.complete(i));
          }
          return p.future();
        }, capacity, AsyncOrder.ORDERED)
        .sink(v -> {
          inFlight.decrementAndGet();
          out.add(v);
        });
      env.submit().await().completion().await(2, TimeUnit.MINUTES);
      assertThat(out).containsExactlyElementsOf(IntStream.range(0, n).boxed().toList());
      assertThat(maxInFlight.get()).isLessThanOrEqualTo(capacity);
    } finally {
      completers.shutdownNow();
    }
  }

  @Test
  void mapAsyncKeepsOrderWhenAskedAndBoundsItsCalls() {
    env.registerService("echo", EchoService.class, new ServiceOptions().setMaxConcurrency(16));
    List<Integer> ordered = new CopyOnWriteArrayList<>();
    List<Integer> unordered = new CopyOnWriteArrayList<>();
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    env.fromBatch(IntStream.range(0, 200).boxed().toList())
      .mapAsync(i -> {
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        Future<Integer> f = env.services().callAsync("echo", i);
        return f.andThen(ar -> inFlight.decrementAndGet());
      }, 8, AsyncOrder.ORDERED)
      .sink(ordered::add);
    env.fromBatch(IntStream.range(0, 200).boxed().toList())
      .mapAsync(new AsyncFunction<Integer, Integer>() {
        @Override
        public Future<Integer> execute(Integer i) {
          return vertx.timer(1 + i % 7).map(x -> i);
        }
      }, 20, AsyncOrder.UNORDERED)
      .sink(unordered::add);
    env.submit().await().completion().await();
    assertThat(ordered).containsExactlyElementsOf(IntStream.range(0, 200).boxed().toList());
    assertThat(unordered).containsExactlyInAnyOrderElementsOf(IntStream.range(0, 200).boxed().toList());
    assertThat(maxInFlight.get()).isBetween(1, 8);
  }
}
