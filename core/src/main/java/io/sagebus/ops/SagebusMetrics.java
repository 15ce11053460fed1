package io.sagebus.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sagebus.Environment;
import io.sagebus.EnvironmentOptions;
import io.sagebus.impl.ops.Operations;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;

import java.util.UUID;

/**
 * Where Sagebus metrics go and how to read them.
 * <p>
 * Sagebus records its meters (see README, "Operations") into the Micrometer registry of the
 * Vertx an environment runs on, when that Vertx was created with Micrometer metrics; otherwise it
 * records nothing. {@link io.sagebus.LocalEnvironment#create(String, EnvironmentOptions)} with
 * {@link EnvironmentOptions#setMetricsEnabled(boolean)} creates its Vertx with
 * {@link #vertxBuilder(VertxOptions)}, which also gives Vert.x's own event-bus metrics and JVM metrics.
 * <pre>{@code
 * LocalEnvironment env = LocalEnvironment.create("shop", new EnvironmentOptions().setMetricsEnabled(true));
 * ...
 * String text = SagebusMetrics.scrape(env.vertx()); // Prometheus text format
 * }</pre>
 */
public final class SagebusMetrics {

  private SagebusMetrics() {
  }

  /**
   * {@return a builder of a Vertx with Micrometer metrics in a Prometheus registry of its own}
   * <p>
   * The registry is named uniquely (Vert.x keeps registries by name in a JVM-wide table), so two
   * such Vertx instances never share meters; it is dropped when the Vertx closes. Event-bus,
   * JVM and the other Vert.x metrics are on; event-bus addresses are not used as tags.
   *
   * @param options the Vertx options; their metrics options are replaced (the argument is not changed)
   */
  public static VertxBuilder vertxBuilder(VertxOptions options) {
    return Vertx.builder()
      .with(new VertxOptions(options).setMetricsOptions(metricsOptions()))
      .withMetrics(new MicrometerMetricsFactory());
  }

  /**
   * {@return metrics options for a Vertx built elsewhere (a node launcher's builder): Micrometer
   * with a Prometheus registry of its own, uniquely named, and JVM metrics}
   * <p>
   * Set them with {@code VertxOptions.setMetricsOptions(...)}; Vert.x finds the Micrometer factory
   * on the class path (a fat jar must merge {@code META-INF/services}), or give it
   * {@code builder.withMetrics(new MicrometerMetricsFactory())}. Each Vertx needs options of its own.
   */
  public static MicrometerMetricsOptions metricsOptions() {
    return new MicrometerMetricsOptions()
      .setEnabled(true)
      .setJvmMetricsEnabled(true)
      .setRegistryName("sagebus-" + UUID.randomUUID())
      .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true));
  }

  /**
   * {@return the Micrometer registry of {@code vertx}, or {@code null} when it was created without Micrometer metrics}
   *
   * @param vertx a Vertx
   */
  public static MeterRegistry registry(Vertx vertx) {
    return Operations.meterRegistry(vertx);
  }

  /**
   * {@return the Prometheus registry of {@code vertx}, or {@code null} when it has none}
   *
   * @param vertx a Vertx
   */
  public static PrometheusMeterRegistry prometheusRegistry(Vertx vertx) {
    return registry(vertx) instanceof PrometheusMeterRegistry prometheus ? prometheus : null;
  }

  /**
   * {@return whether {@code vertx} records metrics that {@link #scrape(Vertx)} can read}
   *
   * @param vertx a Vertx
   */
  public static boolean enabled(Vertx vertx) {
    return prometheusRegistry(vertx) != null;
  }

  /**
   * {@return every meter of {@code vertx} (Sagebus's, Vert.x's, the JVM's) in the Prometheus text format}
   *
   * @param vertx a Vertx created with Prometheus metrics
   * @throws IllegalStateException when it has no Prometheus registry
   */
  public static String scrape(Vertx vertx) {
    PrometheusMeterRegistry prometheus = prometheusRegistry(vertx);
    if (prometheus == null) {
      throw new IllegalStateException("This Vertx records no Prometheus metrics: create the environment with "
        + "new EnvironmentOptions().setMetricsEnabled(true), or the Vertx with SagebusMetrics.vertxBuilder(options)");
    }
    return prometheus.scrape();
  }

  /**
   * {@return the Prometheus text of the Vertx the environment runs on}
   *
   * @param environment an environment
   * @throws IllegalStateException when its Vertx has no Prometheus registry
   */
  public static String scrape(Environment environment) {
    return scrape(environment.vertx());
  }
}
