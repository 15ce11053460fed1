package io.sagebus;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sagebus.ops.SagebusMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class ResultCacheTest {

  private LocalEnvironment env;

  @AfterEach
  void tearDown() {
    if (env != null) {
      env.close().await();
    }
  }

  /** Counts its invocations; {@code held} waits for a latch, {@code flaky} fails while told to. */
  public static class Counting {
    final AtomicInteger invocations;
    final CountDownLatch release;
    final AtomicInteger failuresLeft;

    Counting(AtomicInteger invocations, CountDownLatch release, AtomicInteger failuresLeft) {
      this.invocations = invocations;
      this.release = release;
      this.failuresLeft = failuresLeft;
    }

    public int square(int x) {
      invocations.incrementAndGet();
      return x * x;
    }

    public JsonObject profile(JsonObject query) {
      invocations.incrementAndGet();
      return new JsonObject().put("query", query).put("tags", new ArrayList<>(List.of("a")));
    }

    public String held(String value) throws InterruptedException {
      invocations.incrementAndGet();
      if (!release.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("never released");
      }
      if (failuresLeft.getAndDecrement() > 0) {
        throw new IllegalStateException("failing on purpose");
      }
      return "held " + value;
    }

    public String flaky(String value) {
      invocations.incrementAndGet();
      if (failuresLeft.getAndDecrement() > 0) {
        throw new IllegalStateException("failing on purpose");
      }
      return "ok " + value;
    }
  }

  private final AtomicInteger invocations = new AtomicInteger();
  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicInteger failuresLeft = new AtomicInteger();

  private LocalEnvironment env(Vertx vertx, CachePolicy policy) {
    env = LocalEnvironment.create(vertx, "cache", new EnvironmentOptions());
    register(policy);
    return env;
  }

  private void register(CachePolicy policy) {
    env.registerService("counting", () -> new Counting(invocations, release, failuresLeft),
      new ServiceOptions().setCache(policy).setMaxConcurrency(4).setDrainTimeout(Duration.ofMillis(200)));
    env.start().await();
  }

  private ServiceStats stats() {
    return env.services().stats("counting").await();
  }

  @Test
  void aThousandEqualConcurrentCallsRunTheMethodOnce(Vertx vertx) {
    env(vertx, new CachePolicy());
    List<Future<String>> calls = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      calls.add(env.services().callAsync("counting", CallOptions.create().withMethod("held"), "x"));
    }
    // Every lookup happened at its call; the one invocation is still held.
    ServiceStats inFlight = stats();
    assertThat(inFlight.cacheMisses()).isEqualTo(1);
    assertThat(inFlight.cacheCoalesced()).isEqualTo(999);
    release.countDown();
    Future.all(calls).await();
    for (Future<String> f : calls) {
      assertThat(f.result()).isEqualTo("held x");
    }
    assertThat(invocations).hasValue(1);
    assertThat(stats().requests()).isEqualTo(1);
    assertThat((String) env.services().call("counting", CallOptions.create().withMethod("held"), "x")).isEqualTo("held x");
    assertThat(invocations).hasValue(1);
    assertThat(stats().cacheHits()).isEqualTo(1);
    env.close().await();
    assertThat(env.openResources()).isEmpty();
  }

  @Test
  void anEqualCallIsAHitAndADifferentArgumentOrAnUncachedMethodIsSent(Vertx vertx) {
    env(vertx, new CachePolicy().setMethods("square", "profile"));
    CallOptions square = CallOptions.create().withMethod("square");
    assertThat((Integer) env.services().call("counting", square, 3)).isEqualTo(9);
    assertThat((Integer) env.services().call("counting", square, 3)).isEqualTo(9);
    assertThat(invocations).hasValue(1);
    assertThat((Integer) env.services().call("counting", square, 4)).isEqualTo(16);
    assertThat(invocations).hasValue(2);
    // Object keys in another order are the same arguments.
    CallOptions profile = CallOptions.create().withMethod("profile");
    JsonObject first = env.services().call("counting", profile, new JsonObject().put("a", 1).put("b", 2));
    JsonObject second = env.services().call("counting", profile, new JsonObject().put("b", 2).put("a", 1));
    assertThat(invocations).hasValue(3);
    assertThat(second).isEqualTo(first);
    // Each caller has its own copy: changing one changes no other, nor what the cache answers later.
    first.put("changed", true);
    first.getJsonArray("tags").add("b");
    assertThat(second.containsKey("changed")).isFalse();
    JsonObject third = env.services().call("counting", profile, new JsonObject().put("a", 1).put("b", 2));
    assertThat(third.getJsonArray("tags")).containsExactly("a");
    assertThat(third.containsKey("changed")).isFalse();
    // Converted per caller to the type it asks for.
    Map<String, Object> asMap = env.services().call("counting", profile.resultType(Map.class),
      new JsonObject().put("a", 1).put("b", 2));
    assertThat(asMap).containsKey("query");
    assertThat(invocations).hasValue(3);
    // A method the policy does not name is never cached.
    CallOptions flaky = CallOptions.create().withMethod("flaky");
    env.services().call("counting", flaky, "v");
    env.services().call("counting", flaky, "v");
    assertThat(invocations).hasValue(5);
    ServiceStats stats = stats();
    assertThat(stats.cacheHits()).isEqualTo(4);
    assertThat(stats.cacheMisses()).isEqualTo(3);
    assertThat(stats.cacheCoalesced()).isZero();
  }

  @Test
  void aResultExpiresAfterItsTimeToLive(Vertx vertx) {
    Duration ttl = Duration.ofMillis(300);
    env(vertx, new CachePolicy().setTimeToLive(ttl));
    CallOptions square = CallOptions.create().withMethod("square");
    long t0 = System.nanoTime();
    assertThat((Integer) env.services().call("counting", square, 5)).isEqualTo(25);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
      env.services().call("counting", square, 5);
      return invocations.get() == 2;
    });
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(ttl.toNanos());
    assertThat(stats().cacheMisses()).isEqualTo(2);
  }

  @Test
  void theCacheKeepsAtMostMaxEntries(Vertx vertx) {
    env(vertx, new CachePolicy().setMaxEntries(10));
    CallOptions square = CallOptions.create().withMethod("square");
    for (int pass = 0; pass < 2; pass++) {
      for (int i = 0; i < 100; i++) {
        assertThat((Integer) env.services().call("counting", square, i)).isEqualTo(i * i);
      }
    }
    // Only results kept when the second pass began can answer it: at most 10.
    assertThat(stats().cacheHits()).isLessThanOrEqualTo(10);
    assertThat(invocations.get()).isGreaterThanOrEqualTo(190);
  }

  @Test
  void aFailureIsNeverCachedAndFailsEveryCallThatShared(Vertx vertx) {
    env(vertx, new CachePolicy());
    failuresLeft.set(1);
    CallOptions held = CallOptions.create().withMethod("held");
    List<Future<String>> shared = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      shared.add(env.services().callAsync("counting", held, "y"));
    }
    release.countDown();
    for (Future<String> f : shared) {
      ServiceCallException e = catchThrowableOfType(ServiceCallException.class, f::await);
      assertThat(e.code()).isEqualTo(FailureCode.SERVICE_ERROR);
      assertThat(e.remoteMessage()).isEqualTo("failing on purpose");
    }
    assertThat(invocations).hasValue(1);
    // Nothing was kept: the next equal call runs again, and its success is then kept.
    assertThat((String) env.services().call("counting", held, "y")).isEqualTo("held y");
    assertThat((String) env.services().call("counting", held, "y")).isEqualTo("held y");
    assertThat(invocations).hasValue(2);
    ServiceStats stats = stats();
    assertThat(stats.cacheMisses()).isEqualTo(2);
    assertThat(stats.cacheCoalesced()).isEqualTo(9);
    assertThat(stats.cacheHits()).isEqualTo(1);
  }

  @Test
  void aCallSharingAnotherStillFailsAtItsOwnDeadline(Vertx vertx) {
    env(vertx, new CachePolicy());
    CallOptions held = CallOptions.create().withMethod("held");
    Future<String> leader = env.services().callAsync("counting", held.timeout(Duration.ofSeconds(20)), "z");
    await().atMost(Duration.ofSeconds(10)).until(() -> invocations.get() == 1);
    long t0 = System.nanoTime();
    ServiceTimeoutException e = catchThrowableOfType(ServiceTimeoutException.class,
      () -> env.services().call("counting", held.timeout(Duration.ofMillis(300)), "z"));
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(e.timeout()).isEqualTo(Duration.ofMillis(300));
    assertThat(e.code()).isEqualTo(FailureCode.DEADLINE_EXCEEDED);
    assertThat(took).isBetween(290L, 5_000L);
    assertThat(leader.isComplete()).isFalse();
    release.countDown();
    assertThat(leader.await()).isEqualTo("held z");
    assertThat((String) env.services().call("counting", held, "z")).isEqualTo("held z");
    assertThat(invocations).hasValue(1);
    ServiceStats stats = stats();
    assertThat(stats.timeouts()).isEqualTo(1);
    assertThat(stats.cacheCoalesced()).isEqualTo(1);
    assertThat(stats.cacheHits()).isEqualTo(1);
  }

  @Test
  void aVerticleSharingAnotherCallHearsTheOutcomeOnItsOwnContext(Vertx vertx) {
    env(vertx, new CachePolicy());
    CallOptions held = CallOptions.create().withMethod("held");
    Future<String> leader = env.services().callAsync("counting", held, "c");
    Context context = vertx.getOrCreateContext();
    Promise<Context> heardOn = Promise.promise();
    context.runOnContext(v -> env.services().<String>callAsync("counting", held, "c")
      .onComplete(ar -> heardOn.complete(ar.succeeded() ? Vertx.currentContext() : null)));
    await().atMost(Duration.ofSeconds(10)).until(() -> stats().cacheCoalesced() == 1);
    release.countDown();
    assertThat(leader.await()).isEqualTo("held c");
    assertThat(heardOn.future().await()).isSameAs(context);
  }

  @Test
  void closingLeavesNothingOpenAndANewRegistrationStartsWithAnEmptyCache(Vertx vertx) {
    env(vertx, new CachePolicy());
    CallOptions square = CallOptions.create().withMethod("square");
    env.services().call("counting", square, 6);
    env.services().call("counting", square, 6);
    assertThat(invocations).hasValue(1);
    env.close().await();
    assertThat(env.openResources()).isEmpty();
    // The same name again in the same Vertx: a new registration, with a cache of its own that starts empty.
    env = LocalEnvironment.create(vertx, "cache", new EnvironmentOptions());
    register(new CachePolicy());
    assertThat((Integer) env.services().call("counting", square, 6)).isEqualTo(36);
    assertThat(invocations).hasValue(2);
    assertThat(stats().cacheMisses()).isEqualTo(1);
    assertThat(stats().cacheHits()).isZero();
  }

  @Test
  void hitsMissesAndCoalescedCallsShowInStatsAndMeters() {
    env = LocalEnvironment.create("cachemeters", new EnvironmentOptions().setMetricsEnabled(true));
    register(new CachePolicy());
    CallOptions square = CallOptions.create().withMethod("square");
    env.services().call("counting", square, 3);
    env.services().call("counting", square, 3);
    env.services().call("counting", square, 3);
    env.services().call("counting", square, 4);
    CallOptions held = CallOptions.create().withMethod("held");
    List<Future<String>> shared = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      shared.add(env.services().callAsync("counting", held, "m"));
    }
    release.countDown();
    Future.all(shared).await();
    ServiceStats stats = stats();
    assertThat(stats.cacheHits()).isEqualTo(2);
    assertThat(stats.cacheMisses()).isEqualTo(3);
    assertThat(stats.cacheCoalesced()).isEqualTo(2);
    assertThat(ServiceStats.fromJson(stats.toJson())).isEqualTo(stats);
    assertThat(stats.toJson().getLong("cacheHits")).isEqualTo(2);

    MeterRegistry registry = SagebusMetrics.registry(env.vertx());
    // Recorded as each call ends: the shared ones end a little after Future.all sees them.
    await().atMost(Duration.ofSeconds(5)).until(() -> count(registry, "held", "coalesced") == 2);
    assertThat(count(registry, "square", "hit")).isEqualTo(2);
    assertThat(count(registry, "square", "miss")).isEqualTo(2);
    assertThat(count(registry, "held", "miss")).isEqualTo(1);
    assertThat(count(registry, "held", "hit")).isZero();
    // Only calls that were sent count as client calls.
    assertThat(registry.find("sagebus.client.calls").tags("service", "counting", "method", "square").counter().count())
      .isEqualTo(2);
    Gauge size = registry.find("sagebus.client.cache.size").tags("env", "cachemeters", "service", "counting").gauge();
    assertThat(size.value()).isEqualTo(3);
    assertThat(SagebusMetrics.scrape(env)).contains("sagebus_client_cache_total{env=\"cachemeters\",method=\"square\","
      + "result=\"hit\",service=\"counting\"} 2.0");
  }

  private static double count(MeterRegistry registry, String method, String result) {
    var counter = registry.find("sagebus.client.cache").tags("service", "counting", "method", method, "result", result)
      .counter();
    return counter == null ? 0 : counter.count();
  }
}
