package io.sagebus;

import com.fasterxml.jackson.core.type.TypeReference;
import io.sagebus.testing.EchoService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class ServiceCallTest {

  private LocalEnvironment env;

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "calls", new EnvironmentOptions());
    env.registerService("echo", EchoService.class);
    env.start().await();
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  @Test
  void syncCallFromPlainThreadCallsProcess() {
    String reply = env.services().call("echo", "hello");
    assertThat(reply).isEqualTo("hello");
  }

  @Test
  void nullNoneOneAndSeveralArgumentsReachTheMethodAsGiven() {
    assertThat((Object) env.services().call("echo", (Object) null)).isNull();
    assertThat((Object) env.services().call("echo", (Object[]) null)).isNull(); // no array: one null argument
    assertThatThrownBy(() -> env.services().call("echo", new Object[0]))
      .isInstanceOfSatisfying(ServiceCallException.class, e -> assertThat(e.code()).isEqualTo(FailureCode.BAD_ARGUMENTS));
    assertThat((String) env.services().call("echo", CallOptions.method("repeat"), "ab", 2)).isEqualTo("abab");
    assertThatThrownBy(() -> env.services().call("echo", CallOptions.method("repeat"), null, 2))
      .isInstanceOf(ServiceCallException.class);
    // A retryable call sends a copy of its arguments per attempt.
    assertThat((String) env.services().call("echo", CallOptions.method("repeat").retry(new RetryPolicy()), "x", 3))
      .isEqualTo("xxx");
  }

  @Test
  void namedMethodWithTypedResult() {
    int sum = env.services().call("echo", CallOptions.method("add").resultType(Integer.class), 2, 3);
    assertThat(sum).isEqualTo(5);
    String repeated = env.services().call("echo", CallOptions.method("repeat"), "ab", 3);
    assertThat(repeated).isEqualTo("ababab");
  }

  @Test
  void pojoArgumentsAndResultsTravelAsJson() {
    EchoService.Point moved = env.services().call("echo",
      CallOptions.method("move").resultType(EchoService.Point.class), new EchoService.Point(1, 2));
    assertThat(moved).isEqualTo(new EchoService.Point(2, 3));
    long sum = env.services().call("echo", CallOptions.method("sum").resultType(Long.class), List.of(1, 2, 3));
    assertThat(sum).isEqualTo(6L);
    JsonObject marked = env.services().call("echo", CallOptions.method("mark"), new JsonObject().put("a", 1));
    assertThat(marked).isEqualTo(new JsonObject().put("a", 1).put("seen", true));
    int size = env.services().call("echo", CallOptions.method("size"), Map.of("a", 1, "b", 2));
    assertThat(size).isEqualTo(2);
    List<EchoService.Point> points = env.services().call("echo",
      CallOptions.create().resultType(new TypeReference<List<EchoService.Point>>() { }),
      new JsonArray().add(new JsonObject().put("x", 1).put("y", 2)));
    assertThat(points).containsExactly(new EchoService.Point(1, 2));
  }

  @Test
  void asyncCallFromEventLoop(Vertx vertx, VertxTestContext ctx) {
    vertx.runOnContext(v -> env.services().<String>callAsync("echo", CallOptions.method("async"), "hi")
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertThat(r).isEqualTo("hi");
        ctx.completeNow();
      }))));
  }

  interface EchoApi {
    String process(String value);

    Future<Integer> add(int a, int b);

    default String twice(String v) {
      return process(v) + process(v);
    }
  }

  @Test
  void proxyCallsByMethodName() {
    EchoApi api = env.services().proxy("echo", EchoApi.class);
    assertThat(api.process("x")).isEqualTo("x");
    assertThat(api.add(4, 5).await()).isEqualTo(9);
    assertThat(api.twice("y")).isEqualTo("yy");
  }

  /** Holds each call until the test opens it. */
  public static final class Held {
    final CountDownLatch open = new CountDownLatch(1);
    final CountDownLatch entered = new CountDownLatch(1);

    /**
     * @param v a value
     * @return {@code v}, once opened
     */
    public String process(String v) throws InterruptedException {
      entered.countDown();
      open.await(30, TimeUnit.SECONDS);
      return v;
    }
  }

  @Test
  void syncCallWaitingOnAThreadOfItsOwnEndsWhenThatThreadIsInterrupted() throws Exception {
    Held held = new Held();
    env.registerService("held", () -> held, new ServiceOptions());
    AtomicReference<Object> outcome = new AtomicReference<>();
    Thread caller = Thread.ofVirtual().start(() -> {
      try {
        outcome.set(env.services().call("held", "x"));
      } catch (Throwable t) {
        outcome.set(t);
      }
    });
    assertThat(held.entered.await(30, TimeUnit.SECONDS)).isTrue();
    caller.interrupt();
    await().atMost(30, TimeUnit.SECONDS).until(() -> outcome.get() != null);
    assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
    held.open.countDown();

    // A thread interrupted before it calls: the call throws at once, as Future.await does, and clears the flag, so
    // that its next call waits for its answer as usual.
    AtomicReference<Object> second = new AtomicReference<>();
    outcome.set(null);
    Thread interrupted = Thread.ofVirtual().start(() -> {
      Thread.currentThread().interrupt();
      try {
        outcome.set(env.services().call("echo", "y"));
      } catch (Throwable t) {
        outcome.set(t);
      }
      second.set(env.services().call("echo", "z"));
    });
    interrupted.join();
    assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
    assertThat(second.get()).isEqualTo("z");
  }
}
