package io.sagebus;

import io.sagebus.ops.SagebusMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * Dynamic batching: callers call a batched method per item, the instance runs it once per batch
 * and answers each caller with its element; every failure form answers every call (none hangs).
 */
class BatchingTest {

  private static final Duration LONG = Duration.ofSeconds(30);

  private LocalEnvironment env;

  @AfterEach
  void tearDown() throws Exception {
    if (env != null) {
      env.close().await();
    }
  }

  /** Upper-cases its items; records every batch it got. "fail:x" is a per-item failure, "throw" fails the batch. */
  public static class UpperService {
    final Queue<List<String>> batches;
    final Queue<Long> starts;
    final CountDownLatch gate;

    UpperService(Queue<List<String>> batches, Queue<Long> starts, CountDownLatch gate) {
      this.batches = batches;
      this.starts = starts;
      this.gate = gate;
    }

    /**
     * {@return each text upper-cased, a Throwable for "fail:..."}
     *
     * @param texts the batch
     * @throws InterruptedException when interrupted at the gate
     */
    public List<Object> upper(List<String> texts) throws InterruptedException {
      starts.add(System.nanoTime());
      batches.add(List.copyOf(texts));
      gate.await();
      if (texts.contains("throw")) {
        throw new IllegalStateException("model crashed on " + texts.size() + " items");
      }
      List<Object> out = new ArrayList<>();
      for (String t : texts) {
        out.add(t.startsWith("fail:") ? new IllegalArgumentException("cannot embed " + t) : t.toUpperCase());
      }
      if (texts.contains("short")) {
        out.remove(0);
      }
      return out;
    }

    /**
     * {@return the lengths, from a Future completed on the event loop}
     *
     * @param texts the batch
     */
    public Future<List<Integer>> lengths(List<String> texts) {
      batches.add(List.copyOf(texts));
      return Future.succeededFuture(texts.stream().map(String::length).toList());
    }

    /**
     * {@return the lengths, from a Future, or each failure form of a Future method: "throw" throws before a
     * future, "fail" fails the future, "null" completes it with null, "short" one element short; "fail:x" is a
     * per-item failure}
     *
     * @param texts the batch
     */
    public Future<List<Object>> measure(List<String> texts) {
      if (texts.contains("throw")) {
        throw new IllegalStateException("model crashed before its future");
      }
      if (texts.contains("fail")) {
        return Future.failedFuture(new IllegalStateException("model failed its future"));
      }
      if (texts.contains("null")) {
        return Future.succeededFuture(null);
      }
      List<Object> out = new ArrayList<>();
      for (String t : texts) {
        out.add(t.startsWith("fail:") ? new IllegalArgumentException("cannot measure " + t) : t.length());
      }
      if (texts.contains("short")) {
        out.remove(0);
      }
      return Future.succeededFuture(out);
    }

    /**
     * {@return its argument: not batched}
     *
     * @param s anything
     */
    public String plain(String s) {
      return s;
    }
  }

  /** Calls the batched method of "upper" per item from its own invocations: a service calling another. */
  public static class Relay implements ServiceLifecycle {
    private ServiceContext context;

    @Override
    public void setup(ServiceContext ctx) {
      this.context = ctx;
    }

    /**
     * {@return the text upper-cased by "upper"}
     *
     * @param text one item
     */
    public String relay(String text) {
      return context.services().call("upper", UPPER, text);
    }
  }

  private final Queue<List<String>> batches = new ConcurrentLinkedQueue<>();
  /** When each batch of {@code upper} began, System.nanoTime(), in the order of {@link #batches}. */
  private final Queue<Long> starts = new ConcurrentLinkedQueue<>();

  private void start(BatchPolicy policy, CountDownLatch gate, ServiceOptions options, EnvironmentOptions envOptions) {
    env = LocalEnvironment.create("batching", envOptions);
    env.registerService("upper", () -> new UpperService(batches, starts, gate),
      options.setBatching("upper", policy).setBatching("lengths", policy).setBatching("measure", policy));
    env.start().await();
  }

  private void start(BatchPolicy policy) {
    start(policy, new CountDownLatch(0), new ServiceOptions(), new EnvironmentOptions());
  }

  private static final CallOptions UPPER = CallOptions.method("upper");

  private List<Future<String>> callUpper(String... texts) {
    List<Future<String>> calls = new ArrayList<>();
    for (String t : texts) {
      calls.add(env.services().callAsync("upper", UPPER, t));
    }
    return calls;
  }

  private static <T> List<T> results(List<Future<T>> calls) throws Exception {
    Future.join(calls).await(30, TimeUnit.SECONDS);
    return calls.stream().map(Future::result).toList();
  }

  /** {@return the calls, once every one has ended} */
  private static <T> List<Future<T>> ended(List<Future<T>> calls) throws Exception {
    Future.join(calls).otherwiseEmpty().await(30, TimeUnit.SECONDS);
    return calls;
  }

  private static void assertServiceError(Future<?> call, Class<?> remoteType, String remoteMessage) {
    ServiceCallException e = (ServiceCallException) call.cause();
    assertThat(e.code()).isEqualTo(FailureCode.SERVICE_ERROR);
    assertThat(e.remoteType()).isEqualTo(remoteType.getName());
    assertThat(e.remoteMessage()).isEqualTo(remoteMessage);
  }

  @Test
  void concurrentCallsShareOneInvocationAndEachGetsItsElement() throws Exception {
    start(BatchPolicy.create(8, Duration.ofSeconds(20)));
    List<Future<String>> calls = callUpper("a", "b", "c", "d", "e", "f", "g", "h");
    // The batch closes because it is full, long before its 20 s wait.
    assertThat(results(calls)).containsExactly("A", "B", "C", "D", "E", "F", "G", "H");
    assertThat(batches).hasSize(1);
    assertThat(batches.peek()).containsExactlyInAnyOrder("a", "b", "c", "d", "e", "f", "g", "h");
    ServiceStats stats = env.services().stats("upper").await();
    assertThat(stats.succeeded()).isEqualTo(8);
    BatchStats b = stats.batches().get("upper");
    assertThat(b.batches()).isEqualTo(1);
    assertThat(b.items()).isEqualTo(8);
    assertThat(b.maxSize()).isEqualTo(8);
    assertThat(b.meanSize()).isEqualTo(8.0);
    assertThat(stats.inFlight()).isZero();
    assertThat(stats.queued()).isZero();
    assertThat(ServiceStats.fromJson(stats.toJson())).isEqualTo(stats);
  }

  @Test
  void aCallerThatHearsItsAnswerNoLongerFindsItsCallInFlight() throws Exception {
    start(BatchPolicy.create(4, Duration.ofSeconds(20)));
    List<Future<String>> calls = callUpper("a", "b", "c", "d");
    // The first caller to hear its answer asks for the stats at once. On the direct path its listener runs on the
    // thread answering the batch (the caller has no context), which waits for them before it answers the others; over
    // the bus it runs on the event loop the reply came to, which must not wait: there the stats come after it.
    CompletableFuture<ServiceStats> atFirstAnswer = new CompletableFuture<>();
    AtomicBoolean asked = new AtomicBoolean();
    for (Future<String> call : calls) {
      call.onComplete(ar -> {
        if (!asked.compareAndSet(false, true)) {
          return;
        }
        Future<ServiceStats> stats = env.services().stats("upper");
        if (Context.isOnEventLoopThread()) {
          stats.onComplete((r, e) -> {
            if (e == null) {
              atFirstAnswer.complete(r);
            } else {
              atFirstAnswer.completeExceptionally(e);
            }
          });
          return;
        }
        try {
          atFirstAnswer.complete(stats.await(10, TimeUnit.SECONDS));
        } catch (Exception e) {
          atFirstAnswer.completeExceptionally(e);
        }
      });
    }
    assertThat(results(calls)).containsExactly("A", "B", "C", "D");
    ServiceStats stats = atFirstAnswer.get(30, TimeUnit.SECONDS);
    assertThat(stats.inFlight()).isZero();
    assertThat(stats.queued()).isZero();
  }

  @Test
  void aPartialBatchGoesAfterMaxWait() throws Exception {
    start(BatchPolicy.create(32, Duration.ofMillis(300)));
    long t0 = System.nanoTime();
    List<Future<String>> calls = callUpper("x", "y", "z");
    assertThat(results(calls)).containsExactly("X", "Y", "Z");
    assertThat(batches.stream().mapToInt(List::size).sum()).isEqualTo(3);
    // Not closed before the first item waited maxWait (the three are sent together, well inside it).
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isGreaterThanOrEqualTo(290);
  }

  @Test
  void aFutureReturningBatchedMethodIsBatchedToo() throws Exception {
    start(BatchPolicy.create(3, Duration.ofSeconds(20)));
    CallOptions lengths = CallOptions.method("lengths");
    List<Future<Integer>> calls = List.of(env.services().callAsync("upper", lengths, "a"),
      env.services().callAsync("upper", lengths, "bb"), env.services().callAsync("upper", lengths, "ccc"));
    assertThat(results(calls)).containsExactly(1, 2, 3);
    assertThat(batches).hasSize(1);
  }

  @Test
  void aPerItemFailureFailsOnlyItsCall() throws Exception {
    start(BatchPolicy.create(3, Duration.ofSeconds(20)));
    List<Future<String>> calls = ended(callUpper("ok", "fail:me", "fine"));
    assertThat(calls.get(0).result()).isEqualTo("OK");
    assertThat(calls.get(2).result()).isEqualTo("FINE");
    assertServiceError(calls.get(1), IllegalArgumentException.class, "cannot embed fail:me");
    assertThat(batches).hasSize(1);
    // The batcher goes on: the next batch runs.
    assertThat(results(callUpper("d", "e", "f"))).containsExactly("D", "E", "F");
  }

  @Test
  void theMethodThrowingFailsEveryCallOfTheBatchWithTheRemoteType() throws Exception {
    start(BatchPolicy.create(3, Duration.ofSeconds(20)));
    for (Future<String> call : ended(callUpper("a", "throw", "c"))) {
      assertServiceError(call, IllegalStateException.class, "model crashed on 3 items");
    }
    // The batcher goes on: the next batch runs.
    assertThat(results(callUpper("d", "e", "f"))).containsExactly("D", "E", "F");
  }

  @Test
  void everyFailureOfAFutureBatchedMethodAnswersItsCallsAndTheBatcherGoesOn() throws Exception {
    start(BatchPolicy.create(2, Duration.ofSeconds(20)));
    CallOptions measure = CallOptions.method("measure");
    for (String form : List.of("throw", "fail", "null", "short", "fail:x")) {
      List<Future<Integer>> calls = List.of(env.services().callAsync("upper", measure, form),
        env.services().callAsync("upper", measure, "ok"));
      ended(calls);
      switch (form) {
        case "throw" -> calls.forEach(c -> assertServiceError(c, IllegalStateException.class,
          "model crashed before its future"));
        case "fail" -> calls.forEach(c -> assertServiceError(c, IllegalStateException.class, "model failed its future"));
        case "null", "short" -> calls.forEach(c -> assertThat(((ServiceCallException) c.cause()).code())
          .as(form).isEqualTo(FailureCode.BAD_RESULT));
        default -> { // a per-item failure: that call only
          assertServiceError(calls.get(0), IllegalArgumentException.class, "cannot measure fail:x");
          assertThat(calls.get(1).result()).isEqualTo(2);
        }
      }
    }
    // After each form, the next batch ran; and after all of them a good batch still does.
    List<Future<Integer>> good = List.of(env.services().callAsync("upper", measure, "abc"),
      env.services().callAsync("upper", measure, "abcd"));
    assertThat(results(good)).containsExactly(3, 4);
    ServiceStats stats = env.services().stats("upper").await();
    assertThat(stats.inFlight()).isZero();
    assertThat(stats.queued()).isZero();
  }

  @Test
  void operatorsAndOtherServicesCallPerItemAndGetBatched() throws Exception {
    start(BatchPolicy.create(4, Duration.ofSeconds(2)));
    // Four operator instances, each calling synchronously per record.
    List<String> out = new CopyOnWriteArrayList<>();
    List<String> input = IntStream.range(0, 40).mapToObj(i -> "o" + i).toList();
    env.fromBatch(input).map(new MapFunction<String, String>() {
      @Override
      public String execute(String value) {
        return callService("upper", UPPER, value);
      }
    }, 4).sink(out::add);
    env.submit().await().completion().await(60, TimeUnit.SECONDS);
    assertThat(out).containsExactlyInAnyOrderElementsOf(input.stream().map(String::toUpperCase).toList());
    assertThat(batches.size()).as("invocations for 40 records").isLessThan(40);

    // Another service, whose eight concurrent invocations each call "upper" per item.
    batches.clear();
    env.registerService("relay", Relay.class, new ServiceOptions().setMaxConcurrency(8));
    env.deploy("relay").await(30, TimeUnit.SECONDS);
    List<Future<String>> relayed = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      relayed.add(env.services().callAsync("relay", CallOptions.method("relay"), "r" + i));
    }
    assertThat(results(relayed)).containsExactly("R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7");
    assertThat(batches.size()).as("invocations for 8 nested calls").isLessThan(8);
  }

  @Test
  void aResultListOfTheWrongLengthFailsEveryCallWithBadResult() throws Exception {
    start(BatchPolicy.create(3, Duration.ofSeconds(20)));
    for (Future<String> call : ended(callUpper("a", "short", "c"))) {
      ServiceCallException e = (ServiceCallException) call.cause();
      assertThat(e.code()).isEqualTo(FailureCode.BAD_RESULT);
      assertThat(e.getMessage()).contains("3 items").contains("a list of 2");
    }
    // The batcher goes on: the next batch runs.
    assertThat(results(callUpper("d", "e", "f"))).containsExactly("D", "E", "F");
  }

  @Test
  void aCallWhoseBudgetIsSpentNeverEntersABatch() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    start(BatchPolicy.create(1, Duration.ZERO), gate, new ServiceOptions(), new EnvironmentOptions());
    Future<String> first = env.services().callAsync("upper", UPPER, "first");
    await().atMost(LONG).until(() -> batches.size() == 1); // the only batch slot is taken, behind the gate
    Future<String> late = env.services().callAsync("upper", CallOptions.method("upper").timeout(Duration.ofMillis(200)), "late");
    Future<String> patient = env.services().callAsync("upper", UPPER, "patient");
    await().atMost(LONG).until(late::isComplete);
    assertThat(late.cause()).isInstanceOf(ServiceTimeoutException.class);
    gate.countDown();
    assertThat(first.await(30, TimeUnit.SECONDS)).isEqualTo("FIRST");
    assertThat(patient.await(30, TimeUnit.SECONDS)).isEqualTo("PATIENT");
    assertThat(batches).extracting(b -> b.get(0)).containsExactly("first", "patient");
    await().atMost(LONG).until(() -> env.services().stats("upper").await().errors(FailureCode.DEADLINE_EXCEEDED) == 1);
  }

  @Test
  void aBatchClosesEarlyWhenWaitingWouldSpendItsTightestBudget() throws Exception {
    start(BatchPolicy.create(32, Duration.ofSeconds(20)));
    // maxWait 20 s, but a call with a 3 s budget: the batch closes before that budget is spent (its deadline less a
    // margin for the answer's way back, at most 100 ms, and the invocation time it has seen).
    long t0 = System.nanoTime();
    Future<String> call = env.services().callAsync("upper", CallOptions.method("upper").timeout(Duration.ofSeconds(3)),
      "hurry");
    call.otherwiseEmpty().await(30, TimeUnit.SECONDS);
    assertThat(batches).containsExactly(List.of("hurry"));
    long began = TimeUnit.NANOSECONDS.toMillis(starts.peek() - t0);
    // Held for its max wait, it would begin after 20 s. A loaded machine may fire the close a little late (and then
    // the answer may miss the budget, the margin being 100 ms): what must hold is that it was not held for maxWait.
    assertThat(began).isLessThan(4_000);
    if (call.failed()) {
      assertThat(call.cause()).as("only a late answer, on a loaded machine").isInstanceOf(ServiceTimeoutException.class);
    } else {
      assertThat(call.result()).isEqualTo("HURRY");
      assertThat(began).isLessThan(3_000);
    }
  }

  private static long millisSince(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  @Test
  void aLoneSequentialCallerIsNotHeldForMaxWait() throws Exception {
    start(BatchPolicy.create(32, Duration.ofSeconds(3)));
    long t0 = System.nanoTime();
    assertThat(env.services().<String>call("upper", UPPER, "first")).isEqualTo("FIRST");
    // Nothing learnt yet: the first batch waits its max wait, in case others come.
    assertThat(millisSince(t0)).isGreaterThanOrEqualTo(2_900);
    for (int i = 0; i < 10; i++) {
      long t = System.nanoTime();
      assertThat(env.services().<String>call("upper", UPPER, "x" + i)).isEqualTo("X" + i);
      // No item ever arrived while another waited or ran, so no more are expected: each batch goes at once.
      // Held for its max wait, a call would take 3 s or more.
      assertThat(millisSince(t)).as("call %d", i).isLessThan(1_500);
    }
    assertThat(batches).hasSize(11).allSatisfy(b -> assertThat(b).hasSize(1));
  }

  @Test
  void withoutAdaptiveWaitALoneSequentialCallerWaitsItsMaxWaitEveryTime() throws Exception {
    Duration maxWait = Duration.ofMillis(400);
    start(BatchPolicy.create(32, maxWait).setAdaptiveWait(false));
    for (int i = 0; i < 4; i++) {
      long t = System.nanoTime();
      assertThat(env.services().<String>call("upper", UPPER, "x" + i)).isEqualTo("X" + i);
      // With the adaptive wait, every call after the first goes at once (aLoneSequentialCallerIsNotHeldForMaxWait).
      // Here each batch waits for more items to its max wait (a waiting batch may be taken up to half of it early,
      // so that its method starts on time).
      assertThat(millisSince(t)).as("call %d", i).isGreaterThanOrEqualTo(maxWait.toMillis() / 2);
    }
    assertThat(batches).hasSize(4).allSatisfy(b -> assertThat(b).hasSize(1));
  }

  /** A method declaring a fixed wait. */
  static final class FixedWait {
    /**
     * Echoes its items.
     *
     * @param texts the items
     * @return them
     */
    @Batched(maxSize = 8, maxWaitMs = 50, adaptiveWait = false)
    public List<String> echo(List<String> texts) {
      return texts;
    }
  }

  @Test
  void concurrentCallersStillFillBatchesAfterALoneCaller() throws Exception {
    start(BatchPolicy.create(16, Duration.ofSeconds(2)));
    for (int i = 0; i < 3; i++) { // the first waits 2 s, the others go at once: waiting gathered nothing
      assertThat(env.services().<String>call("upper", UPPER, "lone" + i)).isEqualTo("LONE" + i);
    }
    batches.clear();
    // Now 64 callers at once: items arrive while batches wait and run, and the batcher waits for them again.
    List<String> out = new CopyOnWriteArrayList<>();
    List<String> input = IntStream.range(0, 640).mapToObj(i -> "c" + i).toList();
    env.fromBatch(input)
      .mapAsync(t -> env.services().<String>callAsync("upper", UPPER, t), 64, AsyncOrder.UNORDERED)
      .sink(out::add);
    env.submit().await().completion().await(60, TimeUnit.SECONDS);
    assertThat(out).containsExactlyInAnyOrderElementsOf(input.stream().map(String::toUpperCase).toList());
    List<Integer> sizes = batches.stream().map(List::size).toList();
    // A few small batches while it learns that items come again (three on an idle machine), and the last one; the
    // others are full: 32 of the 40 there would be if all were.
    assertThat(sizes.stream().filter(n -> n == 16).count()).as("batch sizes %s", sizes).isGreaterThanOrEqualTo(32);
  }

  @Test
  void aBatchStillWaitsAboutItsMaxWaitWhileItemsTrickleIn() throws Exception {
    Duration maxWait = Duration.ofMillis(500);
    start(BatchPolicy.create(1_000, maxWait));
    int n = 200; // one every 10 ms: about 2 s, four batches
    Map<String, Long> sent = new ConcurrentHashMap<>();
    List<Future<String>> calls = new CopyOnWriteArrayList<>();
    Promise<Void> allSent = Promise.promise();
    AtomicInteger next = new AtomicInteger();
    env.vertx().setPeriodic(10, id -> {
      int i = next.getAndIncrement();
      if (i >= n) {
        env.vertx().cancelTimer(id);
        allSent.tryComplete();
        return;
      }
      sent.put("t" + i, System.nanoTime());
      calls.add(env.services().callAsync("upper", UPPER, "t" + i));
    });
    allSent.future().await(60, TimeUnit.SECONDS);
    assertThat(results(calls)).hasSize(n).allSatisfy(r -> assertThat(r).startsWith("T"));
    List<List<String>> got = new ArrayList<>(batches);
    List<Long> began = new ArrayList<>(starts);
    assertThat(got.stream().mapToInt(List::size).sum()).isEqualTo(n);
    assertThat(got.size()).as("batch sizes %s", got.stream().map(List::size).toList()).isLessThanOrEqualTo(10);
    for (int b = 0; b < got.size(); b++) {
      long firstSent = got.get(b).stream().mapToLong(sent::get).min().orElseThrow();
      long heldMillis = TimeUnit.NANOSECONDS.toMillis(began.get(b) - firstSent);
      // Items keep coming, so the batch waits: its max wait less the mean gap between items (10 ms when the
      // machine keeps up), not closed at once. 0.8 x max wait leaves the gap room to grow tenfold under load.
      assertThat(heldMillis).as("batch %d of %s held", b, got.size()).isGreaterThanOrEqualTo(400);
    }
  }

  @Test
  void admissionCountsItemsAndOverloadedRefusesBeyond() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    // maxConcurrency 1 + maxQueued 2: three items may be held at once.
    start(BatchPolicy.create(1, Duration.ZERO), gate, new ServiceOptions().setMaxQueued(2), new EnvironmentOptions());
    Future<String> running = env.services().callAsync("upper", UPPER, "r");
    await().atMost(LONG).until(() -> batches.size() == 1);
    List<Future<String>> waiting = callUpper("w1", "w2");
    await().atMost(LONG).until(() -> env.services().stats("upper").await().queued() == 2);
    ServiceStats stats = env.services().stats("upper").await();
    assertThat(stats.inFlight()).isEqualTo(1);
    Future<String> refused = env.services().callAsync("upper", UPPER, "over");
    await().atMost(LONG).until(refused::isComplete);
    assertThat(refused.cause()).isInstanceOf(ServiceOverloadedException.class);
    gate.countDown();
    assertThat(running.await(30, TimeUnit.SECONDS)).isEqualTo("R");
    assertThat(results(waiting)).containsExactly("W1", "W2");
  }

  @Test
  void anItemOfTheWrongTypeOrCountIsRefusedAlone() throws Exception {
    start(BatchPolicy.create(2, Duration.ofMillis(100)));
    ServiceCallException twoArgs = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("upper", UPPER, "a", "b"));
    assertThat(twoArgs.code()).isEqualTo(FailureCode.BAD_ARGUMENTS);
    assertThat(twoArgs.getMessage()).contains("batched");
    ServiceCallException object = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("upper", UPPER, new JsonObject().put("x", 1)));
    assertThat(object.code()).isEqualTo(FailureCode.BAD_ARGUMENTS);
    assertThat(env.services().<String>call("upper", CallOptions.method("plain"), "p")).isEqualTo("p");
    assertThat(batches).isEmpty();
  }

  /** The interface a caller's proxy calls per item. */
  public interface Upper {
    /**
     * {@return the text upper-cased}
     *
     * @param text one item
     */
    Future<String> upper(String text);
  }

  @Test
  void mapAsyncAndProxiesCallPerItemAndGetBatched() throws Exception {
    start(BatchPolicy.create(16, Duration.ofMillis(20)));
    List<String> out = new CopyOnWriteArrayList<>();
    List<String> input = IntStream.range(0, 200).mapToObj(i -> "t" + i).toList();
    env.fromBatch(input)
      .mapAsync(t -> env.services().<String>callAsync("upper", UPPER, t), 64, AsyncOrder.ORDERED)
      .sink(out::add);
    env.submit().await().completion().await(60, TimeUnit.SECONDS);
    assertThat(out).containsExactlyElementsOf(input.stream().map(String::toUpperCase).toList());
    int runs = batches.size();
    assertThat(runs).isLessThan(200); // 64 in flight, batches of up to 16: far fewer invocations than items
    assertThat(batches).allSatisfy(b -> assertThat(b.size()).isBetween(1, 16));

    Upper proxy = env.services().proxy("upper", Upper.class);
    assertThat(Future.all(proxy.upper("p"), proxy.upper("q")).await(30, TimeUnit.SECONDS).<String>list())
      .containsExactly("P", "Q");
  }

  @Test
  void batchMetersArePerServiceAndMethod() throws Exception {
    start(BatchPolicy.create(4, Duration.ofSeconds(20)), new CountDownLatch(0), new ServiceOptions(),
      new EnvironmentOptions().setMetricsEnabled(true));
    results(callUpper("a", "b", "c", "d"));
    String text = SagebusMetrics.scrape(env);
    assertThat(text).containsPattern("sagebus_service_batch_size_items_count\\{[^}]*method=\"upper\"[^}]*} 1");
    assertThat(text).containsPattern("sagebus_service_batch_size_items_sum\\{[^}]*method=\"upper\"[^}]*} 4");
    assertThat(text).containsPattern("sagebus_service_batch_wait_seconds_count\\{[^}]*method=\"upper\"[^}]*} 4");
    assertThat(text).containsPattern("sagebus_service_batch_size_items_count\\{[^}]*service=\"upper\"");
  }

  @Test
  void undeployingAnswersWaitingItemsStoppingAndLeavesNothingOpen() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    start(BatchPolicy.create(1, Duration.ZERO), gate, new ServiceOptions().setDrainTimeout(Duration.ofSeconds(20)),
      new EnvironmentOptions());
    Future<String> running = env.services().callAsync("upper", UPPER, "r");
    await().atMost(LONG).until(() -> batches.size() == 1);
    List<Future<String>> waiting = callUpper("w1", "w2");
    await().atMost(LONG).until(() -> env.services().stats("upper").await().queued() == 2);
    Future<Void> undeployed = env.undeploy("upper");
    for (Future<String> w : waiting) {
      await().atMost(LONG).until(w::isComplete);
      assertThat(((ServiceCallException) w.cause()).code()).isEqualTo(FailureCode.STOPPING);
    }
    gate.countDown(); // the running batch finishes within the drain timeout
    assertThat(running.await(30, TimeUnit.SECONDS)).isEqualTo("R");
    undeployed.await(30, TimeUnit.SECONDS);
    env.close().await(30, TimeUnit.SECONDS);
    assertThat(env.openResources()).isEmpty();
    env = null;
  }

  @Test
  void aBatchOutlivingTheDrainTimeoutIsAnsweredStoppingAndInterrupted() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    start(BatchPolicy.create(2, Duration.ofSeconds(20)), never,
      new ServiceOptions().setDrainTimeout(Duration.ofMillis(200)), new EnvironmentOptions());
    List<Future<String>> running = callUpper("a", "b");
    await().atMost(LONG).until(() -> batches.size() == 1);
    env.undeploy("upper").await(30, TimeUnit.SECONDS);
    for (Future<String> call : ended(running)) {
      assertThat(((ServiceCallException) call.cause()).code()).isEqualTo(FailureCode.STOPPING);
    }
    // The batch's thread was interrupted at the gate it would never have passed: nothing of it is left.
    await().atMost(LONG).until(() -> env.openResources().stream().noneMatch(r -> r.startsWith("thread")
      || r.contains("service.upper")));
  }

  /** Batched methods of the wrong shape. */
  public static class WrongShapes {
    /**
     * {@return nothing useful}
     *
     * @param text not a list
     */
    @Batched
    public List<String> single(String text) {
      return List.of(text);
    }
  }

  /** Methods of the wrong shape for batching, named by options. */
  public static class Joiner {
    /**
     * {@return not a list}
     *
     * @param texts a list
     */
    public String joined(List<String> texts) {
      return String.join(",", texts);
    }

    /**
     * {@return a list}
     *
     * @param a a list
     * @param b another
     */
    public List<String> two(List<String> a, List<String> b) {
      return a;
    }
  }

  /** A well-shaped batched method, annotated with a bad policy. */
  public static class BadPolicy {
    /**
     * {@return the texts}
     *
     * @param texts the batch
     */
    @Batched(maxSize = 0)
    public List<String> echo(List<String> texts) {
      return texts;
    }
  }

  @Test
  void registrationRefusesABatchedMethodOfTheWrongShape() throws Exception {
    env = LocalEnvironment.create("batching-shapes");
    assertThatThrownBy(() -> env.registerService("w", WrongShapes.class))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("single(String)")
      .hasMessageContaining("exactly one List parameter");
    assertThatThrownBy(() -> env.registerService("w", BadPolicy.class))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxSize must be from 1");
    ServiceOptions joined = new ServiceOptions().setBatching("joined", new BatchPolicy());
    assertThatThrownBy(() -> env.registerService("j", Joiner.class, joined))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("returns java.lang.String");
    ServiceOptions two = new ServiceOptions().setBatching("two", new BatchPolicy());
    assertThatThrownBy(() -> env.registerService("j", Joiner.class, two))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two(List, List)");
    ServiceOptions missing = new ServiceOptions().setBatching("embed", new BatchPolicy());
    assertThatThrownBy(() -> env.registerService("u", UpperService.class, missing))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'embed'").hasMessageContaining("does not exist");
    // A supplier's class is known only when an instance is made: its deployment fails, saying why.
    env.registerService("s", () -> new WrongShapes(), new ServiceOptions());
    assertThatThrownBy(() -> env.start().await()).hasMessageContaining("single(String)");
  }

  @Test
  void policiesValidateAndRoundTripThroughJson() throws Exception {
    BatchPolicy p = new BatchPolicy().setMaxSize(64).setMaxWait(Duration.ofNanos(2_500_123)).setMaxConcurrentBatches(2);
    assertThat(p.getMaxWait()).isEqualTo(Duration.ofNanos(2_500_000));
    assertThat(new BatchPolicy(p.toJson())).isEqualTo(p);
    assertThat(new BatchPolicy(p)).isEqualTo(p);
    assertThat(new BatchPolicy(new JsonObject())).isEqualTo(new BatchPolicy());
    assertThatThrownBy(() -> p.setMaxSize(0)).hasMessageContaining("maxSize must be from 1 to 10000, got 0");
    assertThatThrownBy(() -> p.setMaxSize(10_001)).hasMessageContaining("got 10001");
    assertThatThrownBy(() -> p.setMaxWait(Duration.ofMillis(-1))).hasMessageContaining("maxWait must be from 0");
    assertThatThrownBy(() -> p.setMaxWait(Duration.ofSeconds(61))).hasMessageContaining("maxWait");
    assertThatThrownBy(() -> p.setMaxConcurrentBatches(0)).hasMessageContaining("maxConcurrentBatches");
    assertThat(new BatchPolicy().isAdaptiveWait()).isTrue();
    BatchPolicy fixed = new BatchPolicy().setAdaptiveWait(false);
    assertThat(fixed.isAdaptiveWait()).isFalse();
    assertThat(new BatchPolicy(fixed.toJson())).isEqualTo(fixed).isNotEqualTo(new BatchPolicy());
    assertThat(new BatchPolicy(fixed)).isEqualTo(fixed);
    assertThatThrownBy(() -> new BatchPolicy(new JsonObject().put("adaptiveWait", "no")))
      .hasMessageContaining("adaptiveWait must be true or false, got no");
    assertThat(BatchPolicy.of(FixedWait.class.getMethod("echo", List.class).getAnnotation(Batched.class)))
      .isEqualTo(BatchPolicy.create(8, Duration.ofMillis(50)).setAdaptiveWait(false));
    ServiceOptions o = new ServiceOptions().setBatching("embed", p);
    ServiceOptions back = new ServiceOptions(o.toJson());
    assertThat(back).isEqualTo(o);
    assertThat(back.getBatching()).isEqualTo(Map.of("embed", p));
    assertThat(new ServiceOptions(o).getBatching()).isEqualTo(Map.of("embed", p));
    assertThat(o.setBatching("embed", null).getBatching()).isEmpty();
    assertThatThrownBy(() -> new ServiceOptions(new JsonObject().put("batching", new JsonObject().put("m", 1))))
      .hasMessageContaining("batching.m");
  }

  @Test
  void aCallCancelledWhileItWaitsForItsBatchIsAnsweredAtOnceAndNeverEntersOne() throws Exception {
    start(BatchPolicy.create(3, Duration.ofSeconds(20)));
    CallHandle<String> handle = env.services().callCancellable("upper", UPPER, "gone");
    await().atMost(LONG).until(() -> env.services().stats("upper").await().queued() == 1);
    assertThat(handle.cancel()).isTrue();
    assertThat(handle.future().cause()).isInstanceOf(ServiceCancelledException.class);
    await("dropped from the waiting items at once, not when its batch closes").atMost(LONG)
      .until(() -> env.services().stats("upper").await().queued() == 0);
    // The next three fill a batch of their own: the cancelled item is not among them.
    assertThat(results(callUpper("a", "b", "c"))).containsExactly("A", "B", "C");
    assertThat(batches).hasSize(1);
    assertThat(batches.peek()).containsExactlyInAnyOrder("a", "b", "c");
    await().atMost(LONG).until(() -> env.services().stats("upper").await().inFlight() == 0);
  }

  @Test
  void cancellingOneMemberOfARunningBatchLeavesTheOthersTheirResults() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    start(BatchPolicy.create(2, Duration.ofSeconds(20)), gate, new ServiceOptions(), new EnvironmentOptions());
    CallHandle<String> cancelled = env.services().callCancellable("upper", UPPER, "a");
    Future<String> kept = env.services().callAsync("upper", UPPER, "b");
    await().atMost(LONG).until(() -> batches.size() == 1); // the batch of two runs, held at the gate
    assertThat(cancelled.cancel()).isTrue();
    assertThat(cancelled.future().cause()).isInstanceOf(ServiceCancelledException.class);
    assertThat(kept.isComplete()).as("the other member's call goes on").isFalse();
    gate.countDown();
    assertThat(kept.await(30, TimeUnit.SECONDS)).isEqualTo("B");
    assertThat(batches).hasSize(1);
  }

  @Test
  void cancellingEveryMemberOfARunningBatchInterruptsIt() throws Exception {
    CountDownLatch gate = new CountDownLatch(1); // never opened: only an interrupt ends the batch
    start(BatchPolicy.create(2, Duration.ofSeconds(20)), gate, new ServiceOptions(), new EnvironmentOptions());
    CallHandle<String> first = env.services().callCancellable("upper", UPPER, "a");
    CallHandle<String> second = env.services().callCancellable("upper", UPPER, "b");
    await().atMost(LONG).until(() -> batches.size() == 1);
    assertThat(first.cancel()).isTrue();
    assertThat(second.cancel()).isTrue();
    await("the batch's thread interrupted, nothing in flight").atMost(LONG)
      .until(() -> env.services().stats("upper").await().inFlight() == 0);
  }

  /** Holds each call until it is interrupted (cancelled), counting those. */
  public static class Hold {
    private final CountDownLatch started;
    private final AtomicInteger interrupted;
    /** Never opened: only an interrupt (a cancel, or the drain when the test closes the environment) ends a call. */
    private final CountDownLatch never = new CountDownLatch(1);

    Hold(CountDownLatch started, AtomicInteger interrupted) {
      this.started = started;
      this.interrupted = interrupted;
    }

    /**
     * {@return its argument, once interrupted}
     *
     * @param s anything
     */
    public String hold(String s) {
      started.countDown();
      try {
        never.await();
      } catch (InterruptedException e) {
        interrupted.incrementAndGet();
        Thread.currentThread().interrupt();
      }
      return s;
    }
  }

  /** A batched Future method that calls "hold" once per batch, before it returns; notes when its batch is cancelled. */
  public static class ViaHold implements ServiceLifecycle {
    private final AtomicInteger batchesCancelled;
    private ServiceContext context;

    ViaHold(AtomicInteger batchesCancelled) {
      this.batchesCancelled = batchesCancelled;
    }

    @Override
    public void setup(ServiceContext ctx) {
      this.context = ctx;
    }

    /**
     * {@return the items, once "hold" answered}
     *
     * @param items the batch
     */
    public Future<List<String>> via(List<String> items) {
      CallContext.current().cancelled().onComplete(v -> batchesCancelled.incrementAndGet());
      // A budget far beyond the test's waits: only a cancel ends this call in time.
      return context.services().<String>callAsync("hold", CallOptions.method("hold").timeout(Duration.ofMinutes(5)),
        "h").map(h -> items);
    }
  }

  @Test
  void theCallsABatchMadeAreCancelledOnceEveryMemberIsAndNotBefore() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicInteger interrupted = new AtomicInteger();
    AtomicInteger batchesCancelled = new AtomicInteger();
    env = LocalEnvironment.create("batching");
    env.registerService("hold", () -> new Hold(started, interrupted));
    env.registerService("via", () -> new ViaHold(batchesCancelled),
      new ServiceOptions().setBatching("via", BatchPolicy.create(2, Duration.ofSeconds(20))));
    env.start().await();
    CallOptions via = CallOptions.method("via").timeout(Duration.ofMinutes(5));
    CallHandle<String> first = env.services().callCancellable("via", via, "a");
    CallHandle<String> second = env.services().callCancellable("via", via, "b");
    assertThat(started.await(30, TimeUnit.SECONDS)).as("the batch of two ran and called hold").isTrue();

    assertThat(first.cancel()).isTrue();
    // The other member still waits for the batch, so its call to "hold" goes on.
    await().during(Duration.ofMillis(500)).atMost(LONG).until(() -> interrupted.get() == 0);
    assertThat(env.services().stats("hold").await().inFlight()).isOne();
    assertThat(batchesCancelled).as("CallContext.cancelled() of the batch").hasValue(0);

    assertThat(second.cancel()).isTrue();
    await("the batch's call to hold cancelled with its last member").atMost(LONG).until(() -> interrupted.get() == 1);
    assertThat(batchesCancelled).as("CallContext.cancelled() of the batch").hasValue(1);
    await().atMost(LONG).until(() -> env.services().stats("hold").await().inFlight() == 0
      && env.services().stats("via").await().inFlight() == 0);
  }
}
