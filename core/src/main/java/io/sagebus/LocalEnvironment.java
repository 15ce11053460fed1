package io.sagebus;

import io.sagebus.impl.env.LocalEnvironmentImpl;

import io.vertx.core.Vertx;

import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * An environment in one JVM: services and callers meet on the local event bus.
 *
 * <pre>{@code
 * LocalEnvironment env = LocalEnvironment.create("shop");
 * env.registerService("profile", ProfileService.class);
 * env.start().await();
 * JsonObject profile = env.services().call("profile", "u42");
 * env.close().await();
 * }</pre>
 */
public interface LocalEnvironment extends Environment {

  /**
   * Creates an environment with a Vertx of its own, closed by {@link #close()}.
   *
   * @param name the environment's name: letters, digits, {@code _} and {@code -}
   * @return the environment
   * @throws IllegalArgumentException when the name is malformed
   */
  static LocalEnvironment create(String name) {
    return LocalEnvironmentImpl.create(null, name, new EnvironmentOptions());
  }

  /**
   * Creates an environment with a Vertx of its own, closed by {@link #close()}; with
   * {@link EnvironmentOptions#setMetricsEnabled(boolean) metrics on}, that Vertx records Micrometer
   * metrics into a Prometheus registry ({@link io.sagebus.ops.SagebusMetrics#scrape(io.vertx.core.Vertx)}).
   *
   * @param name    the environment's name: letters, digits, {@code _} and {@code -}
   * @param options default timeouts and the metrics switch (copied)
   * @return the environment
   * @throws IllegalArgumentException when the name is malformed
   */
  static LocalEnvironment create(String name, EnvironmentOptions options) {
    return LocalEnvironmentImpl.create(null, name, options);
  }

  /**
   * Creates an environment in a Vertx the caller owns and closes; {@link #close()} leaves the Vertx running.
   *
   * @param vertx   the Vert.x instance to run on
   * @param name    the environment's name, unique within {@code vertx}
   * @param options default timeouts (copied)
   * @return the environment
   * @throws IllegalArgumentException when the name is malformed
   * @throws IllegalStateException    when {@code vertx} already has an environment of that name
   */
  static LocalEnvironment create(Vertx vertx, String name, EnvironmentOptions options) {
    return LocalEnvironmentImpl.create(vertx, name, options);
  }

  @Override
  LocalEnvironment registerService(String name, Class<?> type);

  @Override
  LocalEnvironment registerService(String name, Class<?> type, ServiceOptions options);

  @Override
  LocalEnvironment registerService(Class<?> type);

  @Override
  LocalEnvironment registerService(Class<?> type, ServiceOptions options);

  @Override
  LocalEnvironment registerService(String name, Supplier<?> factory);

  @Override
  LocalEnvironment registerService(String name, Supplier<?> factory, ServiceOptions options);

  @Override
  LocalEnvironment servePipeline(String name, Function<DataStream<Object>, DataStream<?>> pipeline,
                                 ServiceOptions options);

  @Override
  LocalEnvironment servePipeline(String name, Function<DataStream<Object>, DataStream<?>> pipeline);

  @Override
  LocalEnvironment registerPipeline(String name, Consumer<Environment> build);
}
