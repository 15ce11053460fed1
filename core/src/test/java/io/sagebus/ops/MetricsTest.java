package io.sagebus.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.sagebus.CallOptions;
import io.sagebus.EnvironmentOptions;
import io.sagebus.FailureCode;
import io.sagebus.LocalEnvironment;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceCallException;
import io.sagebus.ServiceOptions;
import io.sagebus.ServiceOverloadedException;
import io.sagebus.ServiceTimeoutException;
import io.sagebus.impl.ops.Operations;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.FailingService;
import io.sagebus.testing.FlakyService;
import io.sagebus.testing.LatchService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class MetricsTest {

  private LocalEnvironment env;

  @AfterEach
  void tearDown() {
    if (env != null) {
      env.close().await();
    }
  }

  private LocalEnvironment metered(String name) {
    env = LocalEnvironment.create(name, new EnvironmentOptions().setMetricsEnabled(true));
    return env;
  }

  private static double count(MeterRegistry registry, String name, String... tags) {
    var counter = registry.find(name).tags(tags).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void aCallMovesItsMetersAndShowsInThePrometheusText() {
    metered("metrics").registerService("echo", EchoService.class).start().await();
    assertThat(SagebusMetrics.enabled(env.vertx())).isTrue();
    String reply = env.services().call("echo", "hi");
    assertThat(reply).isEqualTo("hi");

    String text = SagebusMetrics.scrape(env);
    assertThat(text)
      .contains("sagebus_service_requests_total{env=\"metrics\",method=\"process\",service=\"echo\"} 1.0")
      .contains("sagebus_client_calls_total{env=\"metrics\",method=\"process\",service=\"echo\"} 1.0")
      .contains("sagebus_service_execution_seconds_count{env=\"metrics\",method=\"process\",service=\"echo\"} 1")
      .contains("sagebus_service_queue_wait_seconds_count{env=\"metrics\",method=\"process\",service=\"echo\"} 1")
      .contains("sagebus_service_execution_seconds_bucket{")
      .contains("sagebus_client_latency_seconds_count{env=\"metrics\",method=\"process\",service=\"echo\"} 1")
      .contains("sagebus_service_instances{env=\"metrics\",service=\"echo\",state=\"running\"} 1.0")
      .contains("sagebus_client_inflight{env=\"metrics\",service=\"echo\"} 0.0")
      .contains("sagebus_service_inflight{env=\"metrics\",method=\"process\",service=\"echo\"} 0.0")
      // Vert.x's own event-bus metrics, from vertx-micrometer-metrics
      .contains("vertx_eventbus_");
    assertThat(text).doesNotContain("sagebus_service_errors_total");

    env.services().call("echo", CallOptions.method("add"), 1, 2);
    MeterRegistry registry = SagebusMetrics.registry(env.vertx());
    assertThat(count(registry, "sagebus.service.requests", "service", "echo", "method", "add")).isEqualTo(1);
    assertThat(count(registry, "sagebus.service.requests", "service", "echo", "method", "process")).isEqualTo(1);
  }

  @Test
  void methodNamesACallerMadeUpNeverBecomeTags() {
    metered("made-up").registerService("echo", EchoService.class).start().await();
    for (int i = 0; i < 5; i++) {
      String method = "no-such-method-" + i;
      assertThatThrownBy(() -> env.services().call("echo", CallOptions.method(method), 1))
        .isInstanceOfSatisfying(ServiceCallException.class, e -> assertThat(e.code()).isEqualTo(FailureCode.UNKNOWN_METHOD));
    }
    String text = SagebusMetrics.scrape(env);
    assertThat(text).doesNotContain("no-such-method");
    MeterRegistry registry = SagebusMetrics.registry(env.vertx());
    assertThat(count(registry, "sagebus.service.errors", "method", "_unknown", "code", "UNKNOWN_METHOD")).isEqualTo(5);
    assertThat(count(registry, "sagebus.client.errors", "method", "_unknown", "code", "UNKNOWN_METHOD")).isEqualTo(5);
    assertThat(count(registry, "sagebus.service.requests", "method", "_unknown")).isEqualTo(5);
  }

  @Test
  void errorsAreCountedByTheirFailureCodeOnBothSides() {
    metered("errors").registerService("failing", FailingService.class)
      .registerService("echo", EchoService.class).start().await();
    assertThatThrownBy(() -> env.services().call("failing", "u1")).isInstanceOf(ServiceCallException.class);
    assertThatThrownBy(() -> env.services().call("echo", CallOptions.method("add"), "x", "y"))
      .isInstanceOfSatisfying(ServiceCallException.class, e -> assertThat(e.code()).isEqualTo(FailureCode.BAD_ARGUMENTS));

    MeterRegistry registry = SagebusMetrics.registry(env.vertx());
    assertThat(count(registry, "sagebus.service.errors", "service", "failing", "method", "process", "code", "SERVICE_ERROR"))
      .isEqualTo(1);
    assertThat(count(registry, "sagebus.client.errors", "service", "failing", "method", "process", "code", "SERVICE_ERROR"))
      .isEqualTo(1);
    assertThat(count(registry, "sagebus.service.errors", "service", "echo", "method", "add", "code", "BAD_ARGUMENTS"))
      .isEqualTo(1);
    assertThat(count(registry, "sagebus.client.errors", "service", "echo", "method", "add", "code", "BAD_ARGUMENTS"))
      .isEqualTo(1);
    assertThat(SagebusMetrics.scrape(env))
      .contains("sagebus_service_errors_total{code=\"SERVICE_ERROR\",env=\"errors\",method=\"process\",service=\"failing\"} 1.0");
  }

  @Test
  void rejectionsAndTimeoutsAreCounted() {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger inside = new AtomicInteger();
    metered("limits")
      .registerService("full", () -> new LatchService(release, inside, new AtomicInteger()),
        new ServiceOptions().setMaxConcurrency(1).setMaxQueued(0))
      .registerService("slow", () -> new LatchService(release, inside, new AtomicInteger()))
      .start().await();
    try {
      Future<Object> held = env.services().callAsync("full", "held");
      await().until(() -> inside.get() == 1);
      assertThatThrownBy(() -> env.services().call("full", "second")).isInstanceOf(ServiceOverloadedException.class);
      assertThatThrownBy(() -> env.services().call("slow", CallOptions.create().timeout(Duration.ofMillis(100)), "late"))
        .isInstanceOfSatisfying(ServiceTimeoutException.class, e -> assertThat(e.service()).isEqualTo("slow"));

      MeterRegistry registry = SagebusMetrics.registry(env.vertx());
      assertThat(count(registry, "sagebus.service.errors", "service", "full", "method", "process", "code", "OVERLOADED"))
        .isEqualTo(1);
      assertThat(count(registry, "sagebus.client.errors", "service", "full", "method", "process", "code", "OVERLOADED"))
        .isEqualTo(1);
      // A timed-out call to a method the service has (known from its local instance) keeps its method tag.
      assertThat(count(registry, "sagebus.client.errors", "service", "slow", "method", "process", "code", "TIMEOUT"))
        .isEqualTo(1);
      assertThat(registry.get("sagebus.service.inflight").tags("service", "full", "method", "process").gauge().value())
        .isEqualTo(1);
      assertThat(registry.get("sagebus.client.inflight").tags("service", "full").gauge().value()).isEqualTo(1);
      release.countDown();
      held.await();
      assertThat(registry.get("sagebus.client.inflight").tags("service", "full").gauge().value()).isEqualTo(0);
      await().until(() -> registry.get("sagebus.service.inflight").tags("service", "slow", "method", "process")
        .gauge().value() == 0);
    } finally {
      release.countDown();
    }
  }

  @Test
  void aRetriedCallCountsItsRetries() {
    AtomicInteger calls = new AtomicInteger();
    metered("retries").registerService("flaky", () -> new FlakyService(1, calls),
      new ServiceOptions().setMaxConcurrency(2).setDrainTimeout(Duration.ZERO)).start().await();
    Object reply = env.services().call("flaky", CallOptions.create().timeout(Duration.ofSeconds(5))
      .retry(new RetryPolicy().setAttemptTimeout(Duration.ofMillis(200))), "v");
    assertThat(reply).isEqualTo("v");
    MeterRegistry registry = SagebusMetrics.registry(env.vertx());
    assertThat(count(registry, "sagebus.client.retries", "service", "flaky", "method", "process")).isEqualTo(1);
    assertThat(count(registry, "sagebus.client.calls", "service", "flaky", "method", "process")).isEqualTo(1);
    assertThat(registry.find("sagebus.client.errors").counters()).isEmpty();
  }

  @Test
  void closingTheEnvironmentRemovesItsMeters(Vertx vertx) {
    Vertx metered = SagebusMetrics.vertxBuilder(new VertxOptions()).build();
    try {
      LocalEnvironment embedded = LocalEnvironment.create(metered, "embedded", new EnvironmentOptions());
      embedded.registerService("echo", EchoService.class).start().await();
      embedded.services().call("echo", "x");
      assertThat(SagebusMetrics.scrape(metered)).contains("sagebus_service_requests_total{env=\"embedded\"");
      embedded.close().await();
      assertThat(SagebusMetrics.scrape(metered)).doesNotContain("sagebus_").contains("vertx_eventbus_");
      assertThat(embedded.openResources()).isEmpty();
    } finally {
      metered.close().await();
    }
  }

  @Test
  void aVertxWithoutMetricsRecordsNothing(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "plain", new EnvironmentOptions().setMetricsEnabled(true));
    env.registerService("echo", EchoService.class).start().await();
    assertThat(env.services().<String>call("echo", "x")).isEqualTo("x");
    assertThat(SagebusMetrics.enabled(vertx)).isFalse();
    assertThat(SagebusMetrics.registry(vertx)).isNull();
    assertThat(Operations.of(vertx).registry()).isNull();
    assertThatThrownBy(() -> SagebusMetrics.scrape(vertx)).isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("setMetricsEnabled(true)");
  }

  @Test
  void metricsOptionsAloneTurnMetricsOnThroughTheServiceLoader() {
    Vertx loaded = Vertx.builder().with(new VertxOptions().setMetricsOptions(SagebusMetrics.metricsOptions())).build();
    try {
      assertThat(SagebusMetrics.prometheusRegistry(loaded)).isNotNull();
      assertThat(SagebusMetrics.scrape(loaded)).contains("jvm_");
    } finally {
      loaded.close().await();
    }
  }

  @Test
  void twoMeteredVertxInstancesDoNotShareARegistry() {
    Vertx a = SagebusMetrics.vertxBuilder(new VertxOptions()).build();
    Vertx b = SagebusMetrics.vertxBuilder(new VertxOptions()).build();
    try {
      assertThat(SagebusMetrics.registry(a)).isNotNull().isNotSameAs(SagebusMetrics.registry(b));
    } finally {
      a.close().await();
      b.close().await();
    }
  }
}
