package io.sagebus;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A plain-value method declared {@link NonBlocking} runs on the instance's event loop, and is
 * otherwise any method: results, failures, limits, stats, batching, and calls from a job's operators.
 */
@ExtendWith(VertxExtension.class)
class NonBlockingTest {

  /** Where each kind of method runs, and what it answers. */
  public static class Kinds implements ServiceLifecycle {
    static final Set<String> BATCH_THREADS = ConcurrentHashMap.newKeySet();
    private ServiceContext context;

    @Override
    public void setup(ServiceContext context) {
      this.context = context;
    }

    /** @return where it ran */
    @NonBlocking
    public String fastWhere() {
      return where();
    }

    /** @return where it ran */
    public String plainWhere() {
      return where();
    }

    /** @return the name of the event-loop thread Future methods run on */
    public Future<String> loopThread() {
      return Future.succeededFuture(Thread.currentThread().getName());
    }

    /**
     * @param x a number
     * @return twice it
     */
    @NonBlocking
    public int twice(int x) {
      return 2 * x;
    }

    /** Returns nothing. */
    @NonBlocking
    public void nothing() {
    }

    /** @return never: throws */
    @NonBlocking
    public String boom() {
      throw new IllegalArgumentException("bad input: boom");
    }

    /** @return never: a sync call cannot wait on the event loop */
    @NonBlocking
    public Object blocksOnTheLoop() {
      return context.services().call(context.name(), CallOptions.method("twice"), 1);
    }

    /**
     * @param in words
     * @return the words in upper case
     */
    @Batched(maxSize = 8, maxWaitMs = 50)
    @NonBlocking
    public List<String> upper(List<String> in) {
      BATCH_THREADS.add(where());
      List<String> out = new ArrayList<>(in.size());
      for (String s : in) {
        out.add(s.toUpperCase(Locale.ROOT));
      }
      return out;
    }

    private static String where() {
      Thread t = Thread.currentThread();
      return t.getName() + "|virtual=" + t.isVirtual() + "|eventLoop=" + Context.isOnEventLoopThread();
    }
  }

  private LocalEnvironment env;

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "nonblocking", new EnvironmentOptions());
    Kinds.BATCH_THREADS.clear();
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  @Test
  void aNonBlockingMethodRunsOnTheInstancesEventLoopAndAPlainOneOnAVirtualThread() {
    env.registerService("kinds", Kinds.class);
    env.start().await();
    String loop = env.services().call("kinds", CallOptions.method("loopThread"));
    String fast = env.services().call("kinds", CallOptions.method("fastWhere"));
    String plain = env.services().call("kinds", CallOptions.method("plainWhere"));
    assertThat(fast).isEqualTo(loop + "|virtual=false|eventLoop=true");
    assertThat(plain).contains("|virtual=true|eventLoop=false");
  }

  @Test
  void itsResultsFailuresAndStatsAreThoseOfAnyMethod() {
    env.registerService("kinds", Kinds.class);
    env.start().await();
    assertThat(env.services().<Integer>call("kinds", CallOptions.method("twice"), 21)).isEqualTo(42);
    assertThat(env.services().<Object>call("kinds", CallOptions.method("nothing"))).isNull();
    ServiceCallException boom = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("kinds", CallOptions.method("boom")));
    assertThat(boom.code()).isEqualTo(FailureCode.SERVICE_ERROR);
    assertThat(boom.remoteType()).isEqualTo(IllegalArgumentException.class.getName());
    assertThat(boom.remoteMessage()).isEqualTo("bad input: boom");
    ServiceCallException bad = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("kinds", CallOptions.method("twice"), "not a number"));
    assertThat(bad.code()).isEqualTo(FailureCode.BAD_ARGUMENTS);
    ServiceStats stats = env.services().stats("kinds").await();
    assertThat(stats.succeeded()).isEqualTo(2);
    assertThat(stats.errors()).containsEntry(FailureCode.SERVICE_ERROR, 1L);
  }

  @Test
  void aSyncCallInsideItFailsAtOnceInsteadOfBlockingTheLoop() {
    env.registerService("kinds", Kinds.class);
    env.start().await();
    ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("kinds", CallOptions.method("blocksOnTheLoop")));
    assertThat(e.code()).isEqualTo(FailureCode.SERVICE_ERROR);
    assertThat(e.remoteType()).isEqualTo(IllegalStateException.class.getName());
    assertThat(e.remoteMessage()).contains("callAsync");
  }

  @Test
  void callsBeyondItsConcurrencyQueueAndAllGetTheirOwnAnswers() {
    env.registerService("kinds", Kinds.class, new ServiceOptions().setMaxConcurrency(1).setMaxQueued(1000));
    env.start().await();
    List<Future<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      calls.add(env.services().callAsync("kinds", CallOptions.method("twice"), i));
    }
    for (int i = 0; i < 300; i++) {
      assertThat(calls.get(i).await()).isEqualTo(2 * i);
    }
    ServiceStats stats = env.services().stats("kinds").await();
    assertThat(stats.succeeded()).isEqualTo(300);
    assertThat(stats.rejected()).isZero();
  }

  @Test
  void aBatchedNonBlockingMethodTakesItsListsOnTheEventLoop() {
    env.registerService("kinds", Kinds.class);
    env.start().await();
    String loop = env.services().call("kinds", CallOptions.method("loopThread"));
    List<Future<String>> calls = new ArrayList<>();
    for (String w : List.of("a", "b", "c", "d", "e", "f", "g", "h")) {
      calls.add(env.services().callAsync("kinds", CallOptions.method("upper"), w));
    }
    List<String> got = new ArrayList<>();
    for (Future<String> f : calls) {
      got.add(f.await());
    }
    assertThat(got).containsExactly("A", "B", "C", "D", "E", "F", "G", "H");
    assertThat(Kinds.BATCH_THREADS).containsOnly(loop + "|virtual=false|eventLoop=true");
    BatchStats batches = env.services().stats("kinds").await().batches().get("upper");
    assertThat(batches.items()).isEqualTo(8);
  }

  @Test
  void aJobsOperatorsCallItAsAnyMethod() {
    env.registerService("kinds", Kinds.class);
    List<Object> out = new CopyOnWriteArrayList<>();
    env.fromBatch(List.of(1, 2, 3))
      .map(new MapFunction<Integer, Object>() {
        @Override
        public Object execute(Integer v) {
          return callService("kinds", CallOptions.method("twice"), v);
        }
      })
      .mapAsync(v -> env.services().callAsync("kinds", CallOptions.method("twice"), v), 4, AsyncOrder.ORDERED)
      .sink(out::add);
    JobResult r = env.submit().await().completion().await();
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(out).containsExactly(4, 8, 12);
  }
}
