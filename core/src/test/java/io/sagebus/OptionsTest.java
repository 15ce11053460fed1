package io.sagebus;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OptionsTest {

  @Test
  void serviceOptionsDefaultsAreTheDocumentedOnes() {
    ServiceOptions o = new ServiceOptions();
    assertThat(o.getInstances()).isEqualTo(1);
    assertThat(o.getMaxConcurrency()).isEqualTo(1);
    assertThat(o.getMaxQueued()).isEqualTo(1000);
    assertThat(o.getTimeout()).isEqualTo(Duration.ZERO);
    assertThat(o.getDrainTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(o.isRetryable()).isFalse();
    assertThat(o.getRetryPolicy()).isNull();
    assertThat(new ServiceOptions(new JsonObject())).isEqualTo(o);
  }

  @Test
  void serviceOptionsRoundTripThroughJsonAndCopy() {
    ServiceOptions o = new ServiceOptions().setInstances(3).setMaxConcurrency(8).setMaxQueued(0)
      .setTimeout(Duration.ofMillis(1500)).setDrainTimeout(Duration.ofMillis(250)).setRetryable(true)
      .setRetryPolicy(new RetryPolicy().setMaxAttempts(4).setAttemptTimeout(Duration.ofMillis(300)))
      .setConfig(new JsonObject().put("model", "small"));
    ServiceOptions back = new ServiceOptions(o.toJson());
    assertThat(back).isEqualTo(o);
    assertThat(back.toJson()).isEqualTo(o.toJson());
    ServiceOptions copy = new ServiceOptions(o);
    o.getConfig().put("model", "large");
    o.getRetryPolicy().setMaxAttempts(9);
    assertThat(copy.getConfig().getString("model")).isEqualTo("small");
    assertThat(copy.getRetryPolicy().getMaxAttempts()).isEqualTo(4);
  }

  @Test
  void serviceOptionsRejectBadValues() {
    assertThatThrownBy(() -> new ServiceOptions().setInstances(0)).hasMessageContaining("instances");
    assertThatThrownBy(() -> new ServiceOptions().setMaxConcurrency(0)).hasMessageContaining("maxConcurrency");
    assertThatThrownBy(() -> new ServiceOptions().setMaxQueued(-1)).hasMessageContaining("maxQueued");
    assertThatThrownBy(() -> new ServiceOptions().setTimeout(Duration.ofMillis(-1))).hasMessageContaining("timeout");
    assertThatThrownBy(() -> new ServiceOptions().setDrainTimeout(null)).hasMessageContaining("drainTimeout");
    assertThatThrownBy(() -> new ServiceOptions(new JsonObject().put("instances", -2))).hasMessageContaining("instances");
  }

  @Test
  void cachePolicyDefaultsRoundTripAndValidation() {
    CachePolicy d = new CachePolicy();
    assertThat(d.getMaxEntries()).isEqualTo(CachePolicy.DEFAULT_MAX_ENTRIES).isEqualTo(10_000);
    assertThat(d.getTimeToLive()).isEqualTo(CachePolicy.DEFAULT_TIME_TO_LIVE).isEqualTo(Duration.ofMinutes(1));
    assertThat(d.getMethods()).isEmpty();
    assertThat(d.caches("anything")).isTrue();
    assertThat(new CachePolicy(new JsonObject())).isEqualTo(d);
    assertThat(new ServiceOptions().getCache()).isNull();

    CachePolicy p = new CachePolicy().setMaxEntries(50).setTimeToLive(Duration.ofMillis(1500)).setMethods("embed", "rank");
    assertThat(p.caches("embed")).isTrue();
    assertThat(p.caches("process")).isFalse();
    assertThat(new CachePolicy(p.toJson())).isEqualTo(p).hasSameHashCodeAs(p);
    assertThat(new CachePolicy(p)).isEqualTo(p);
    ServiceOptions o = new ServiceOptions().setCache(p);
    ServiceOptions back = new ServiceOptions(o.toJson());
    assertThat(back).isEqualTo(o);
    assertThat(back.getCache()).isEqualTo(p);
    ServiceOptions copy = new ServiceOptions(o);
    p.setMaxEntries(7);
    assertThat(o.getCache().getMaxEntries()).isEqualTo(50);
    o.getCache().setMaxEntries(8);
    assertThat(copy.getCache().getMaxEntries()).isEqualTo(50);
    assertThat(new ServiceOptions(new ServiceOptions().toJson()).getCache()).isNull();

    assertThatThrownBy(() -> new CachePolicy().setMaxEntries(0)).hasMessageContaining("maxEntries");
    assertThatThrownBy(() -> new CachePolicy().setTimeToLive(Duration.ZERO)).hasMessageContaining("timeToLive");
    assertThatThrownBy(() -> new CachePolicy().setTimeToLive(null)).hasMessageContaining("timeToLive");
    assertThatThrownBy(() -> new CachePolicy().setMethods(" ")).hasMessageContaining("method name");
    assertThatThrownBy(() -> new CachePolicy(new JsonObject().put("methods", new io.vertx.core.json.JsonArray().add(3))))
      .hasMessageContaining("methods");
    assertThatThrownBy(() -> new ServiceOptions(new JsonObject().put("cache", new JsonObject().put("maxEntries", -1))))
      .hasMessageContaining("maxEntries");
  }

  @Test
  void rateLimitDefaultsRoundTripAndRejectBadValues() {
    assertThat(new ServiceOptions().getRateLimit()).isNull();
    RateLimit d = new RateLimit();
    assertThat(d.getCallsPerSecond()).isEqualTo(RateLimit.DEFAULT_CALLS_PER_SECOND).isEqualTo(10.0);
    assertThat(d.getBurst()).isEqualTo(RateLimit.DEFAULT_BURST).isEqualTo(1);
    assertThat(new RateLimit(new JsonObject())).isEqualTo(d);
    RateLimit l = RateLimit.create(0.5, 20);
    assertThat(new RateLimit(l.toJson())).isEqualTo(l).hasSameHashCodeAs(l);
    assertThat(new RateLimit(l)).isEqualTo(l);
    assertThat(new RateLimit(new JsonObject().put("callsPerSecond", 100).put("burst", 5))).isEqualTo(RateLimit.create(100, 5));
    assertThatThrownBy(() -> new RateLimit().setCallsPerSecond(0)).hasMessageContaining("callsPerSecond");
    assertThatThrownBy(() -> new RateLimit().setCallsPerSecond(Double.NaN)).hasMessageContaining("callsPerSecond");
    assertThatThrownBy(() -> new RateLimit().setCallsPerSecond(2e6)).hasMessageContaining("callsPerSecond");
    assertThatThrownBy(() -> new RateLimit().setBurst(0)).hasMessageContaining("burst");
    assertThatThrownBy(() -> new RateLimit(new JsonObject().put("burst", -1))).hasMessageContaining("burst");

    ServiceOptions o = new ServiceOptions().setRateLimit(l);
    ServiceOptions back = new ServiceOptions(o.toJson());
    assertThat(back).isEqualTo(o);
    assertThat(back.getRateLimit()).isEqualTo(l);
    assertThat(o.toJson().getJsonObject("rateLimit")).isEqualTo(new JsonObject().put("callsPerSecond", 0.5).put("burst", 20));
    ServiceOptions copy = new ServiceOptions(o);
    l.setBurst(1);
    o.getRateLimit().setBurst(2);
    assertThat(copy.getRateLimit()).isEqualTo(RateLimit.create(0.5, 20)); // copied on the way in and in the copy
    assertThat(new ServiceOptions(new JsonObject()).toJson().containsKey("rateLimit")).isFalse();
  }

  @Test
  void autoscalePolicyDefaultsAreRaysRoundTripAndRejectBadValues() {
    assertThat(new ServiceOptions().getAutoscale()).isNull();
    AutoscalePolicy d = new AutoscalePolicy();
    assertThat(d.getMinReplicas()).isEqualTo(AutoscalePolicy.DEFAULT_MIN_REPLICAS).isEqualTo(1);
    assertThat(d.getMaxReplicas()).isEqualTo(AutoscalePolicy.DEFAULT_MAX_REPLICAS).isEqualTo(1);
    assertThat(d.getInitialReplicas()).isEqualTo(-1);
    assertThat(d.initialReplicas()).isEqualTo(1);
    assertThat(d.getTargetInFlight()).isEqualTo(2.0);
    assertThat(d.getUpscaleDelay()).isEqualTo(Duration.ofSeconds(30));
    assertThat(d.getDownscaleDelay()).isEqualTo(Duration.ofSeconds(600));
    assertThat(new AutoscalePolicy(new JsonObject())).isEqualTo(d);

    AutoscalePolicy p = AutoscalePolicy.create(0, 8, 1.5).setInitialReplicas(2)
      .setUpscaleDelay(Duration.ofMillis(500)).setDownscaleDelay(Duration.ZERO);
    assertThat(new AutoscalePolicy(p.toJson())).isEqualTo(p).hasSameHashCodeAs(p);
    assertThat(new AutoscalePolicy(p)).isEqualTo(p);
    assertThat(p.toJson()).isEqualTo(new JsonObject().put("minReplicas", 0).put("maxReplicas", 8)
      .put("targetInFlight", 1.5).put("upscaleDelayMillis", 500L).put("downscaleDelayMillis", 0L)
      .put("initialReplicas", 2));
    assertThat(AutoscalePolicy.create(0, 3, 1).initialReplicas()).isZero();

    assertThatThrownBy(() -> new AutoscalePolicy().setReplicas(-1, 2)).hasMessageContaining("minReplicas");
    assertThatThrownBy(() -> new AutoscalePolicy().setReplicas(0, 0)).hasMessageContaining("maxReplicas");
    assertThatThrownBy(() -> new AutoscalePolicy().setReplicas(3, 2)).hasMessageContaining("must not exceed");
    assertThatThrownBy(() -> new AutoscalePolicy().setReplicas(1, 257)).hasMessageContaining("maxReplicas");
    assertThatThrownBy(() -> AutoscalePolicy.create(1, 4, 1).setInitialReplicas(5)).hasMessageContaining("initialReplicas");
    assertThatThrownBy(() -> AutoscalePolicy.create(2, 4, 1).setInitialReplicas(1)).hasMessageContaining("initialReplicas");
    assertThatThrownBy(() -> new AutoscalePolicy().setTargetInFlight(0)).hasMessageContaining("targetInFlight");
    assertThatThrownBy(() -> new AutoscalePolicy().setTargetInFlight(Double.NaN)).hasMessageContaining("targetInFlight");
    assertThatThrownBy(() -> new AutoscalePolicy().setUpscaleDelay(Duration.ofMillis(-1))).hasMessageContaining("upscaleDelay");
    assertThatThrownBy(() -> new AutoscalePolicy().setDownscaleDelay(null)).hasMessageContaining("downscaleDelay");
    assertThatThrownBy(() -> new AutoscalePolicy(new JsonObject().put("minReplicas", 5).put("maxReplicas", 2)))
      .hasMessageContaining("must not exceed");
    AutoscalePolicy kept = AutoscalePolicy.create(1, 4, 1);
    assertThatThrownBy(() -> kept.setReplicas(5, 3)).isInstanceOf(IllegalArgumentException.class);
    assertThat(kept.getMinReplicas()).isEqualTo(1); // a refused change leaves the policy as it was
    assertThat(kept.getMaxReplicas()).isEqualTo(4);

    ServiceOptions o = new ServiceOptions().setAutoscale(p);
    ServiceOptions back = new ServiceOptions(o.toJson());
    assertThat(back).isEqualTo(o);
    assertThat(back.getAutoscale()).isEqualTo(p);
    ServiceOptions copy = new ServiceOptions(o);
    p.setTargetInFlight(9);
    o.getAutoscale().setTargetInFlight(7);
    assertThat(copy.getAutoscale().getTargetInFlight()).isEqualTo(1.5); // copied on the way in and in the copy
    assertThat(new ServiceOptions(new JsonObject()).toJson().containsKey("autoscale")).isFalse();
  }

  @Test
  void retryPolicyRoundTripsAndBoundsItsBackoff() {
    RetryPolicy p = new RetryPolicy().setMaxAttempts(5).setInitialBackoff(Duration.ofMillis(100))
      .setMaxBackoff(Duration.ofMillis(400)).setMultiplier(3).setJitter(0.5).setAttemptTimeout(Duration.ofSeconds(1));
    assertThat(new RetryPolicy(p.toJson())).isEqualTo(p);
    assertThat(new RetryPolicy(p)).isEqualTo(p);
    for (int i = 0; i < 200; i++) {
      assertThat(p.backoffMillis(1)).isBetween(50L, 150L);
      assertThat(p.backoffMillis(5)).isBetween(200L, 600L);
    }
    RetryPolicy exact = new RetryPolicy().setJitter(0).setInitialBackoff(Duration.ofMillis(10)).setMultiplier(2);
    assertThat(exact.backoffMillis(1)).isEqualTo(10);
    assertThat(exact.backoffMillis(3)).isEqualTo(40);
    assertThat(RetryPolicy.none().getMaxAttempts()).isEqualTo(1);
    assertThatThrownBy(() -> new RetryPolicy().setMaxAttempts(0)).hasMessageContaining("maxAttempts");
    assertThatThrownBy(() -> new RetryPolicy().setMultiplier(0.5)).hasMessageContaining("multiplier");
    assertThatThrownBy(() -> new RetryPolicy().setJitter(2)).hasMessageContaining("jitter");
    assertThatThrownBy(() -> new RetryPolicy().setAttemptTimeout(Duration.ofMillis(-5))).hasMessageContaining("attemptTimeout");
  }

  @Test
  void environmentOptionsDefaultsAndRoundTrip() {
    EnvironmentOptions o = new EnvironmentOptions();
    assertThat(o.getSyncTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.getAsyncTimeout()).isEqualTo(Duration.ofSeconds(30));
    o.setSyncTimeout(Duration.ofSeconds(2)).setAsyncTimeout(Duration.ofSeconds(3));
    assertThat(new EnvironmentOptions(o.toJson())).isEqualTo(o);
    assertThat(new EnvironmentOptions(o)).isEqualTo(o);
    assertThatThrownBy(() -> o.setSyncTimeout(Duration.ZERO)).hasMessageContaining("syncTimeout");
    assertThat(o.isTracingEnabled()).isFalse();
    o.setTracingEnabled(true);
    assertThat(o.toJson().getBoolean("tracingEnabled")).isTrue();
    assertThat(new EnvironmentOptions(o.toJson())).isEqualTo(o);
    io.opentelemetry.api.OpenTelemetry otel = io.opentelemetry.api.OpenTelemetry.noop();
    o.setOpenTelemetry(otel);
    assertThat(new EnvironmentOptions(o).getOpenTelemetry()).isSameAs(otel);
    assertThat(new EnvironmentOptions(o.toJson()).getOpenTelemetry()).as("no JSON form").isNull();
  }

  @Test
  void callOptionsAreImmutableAndRoundTrip() {
    CallOptions base = CallOptions.create();
    CallOptions named = base.withMethod("lookup");
    assertThat(base.getMethod()).isEqualTo("process");
    assertThat(named.getMethod()).isEqualTo("lookup");
    CallOptions full = CallOptions.method("lookup").timeout(Duration.ofMillis(250))
      .retry(new RetryPolicy().setMaxAttempts(2));
    assertThat(full.getRetryable()).isTrue();
    assertThat(CallOptions.fromJson(full.toJson())).isEqualTo(full);
    assertThat(CallOptions.fromJson(new JsonObject())).isEqualTo(CallOptions.create());
    assertThat(full.resultType(String.class).getResultType()).isEqualTo(String.class);
    assertThat(full.getResultType()).isNull();
    assertThatThrownBy(() -> CallOptions.method(" ")).hasMessageContaining("method");
    assertThatThrownBy(() -> CallOptions.create().timeout(Duration.ZERO)).hasMessageContaining("timeout");
  }
}
