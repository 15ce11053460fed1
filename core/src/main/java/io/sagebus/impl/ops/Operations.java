package io.sagebus.impl.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import io.vertx.core.spi.metrics.MetricsProvider;
import io.vertx.micrometer.impl.MicrometerMetrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * What one Vertx knows about the services of its environments for operations: their meters
 * (in the Vertx's Micrometer registry, when it has one), their instances' states and their
 * callers' circuit breakers. One per Vertx, kept in its local shared data: no static state.
 */
public final class Operations implements Shareable {

  private static final String MAP_NAME = "sagebus.operations";
  private static final String KEY = "operations";

  private final MeterRegistry registry;
  private final Map<String, ServiceOps> services = new ConcurrentHashMap<>();
  private final List<Consumer<ServiceOps>> listeners = new CopyOnWriteArrayList<>();

  private Operations(MeterRegistry registry) {
    this.registry = registry;
  }

  /**
   * {@return the operations state of {@code vertx}, created on first use}
   *
   * @param vertx a Vertx
   */
  public static Operations of(Vertx vertx) {
    LocalMap<String, Operations> map = vertx.sharedData().getLocalMap(MAP_NAME);
    Operations ops = map.get(KEY);
    if (ops == null) {
      Operations created = new Operations(meterRegistry(vertx));
      ops = map.putIfAbsent(KEY, created);
      if (ops == null) {
        ops = created;
      }
    }
    return ops;
  }

  /**
   * {@return the Micrometer registry of {@code vertx}, or {@code null} when it was created without Micrometer metrics}
   *
   * @param vertx a Vertx
   */
  public static MeterRegistry meterRegistry(Vertx vertx) {
    if (vertx instanceof MetricsProvider provider && provider.getMetrics() instanceof MicrometerMetrics metrics) {
      return metrics.registry();
    }
    return null;
  }

  /**
   * {@return the Micrometer registry Sagebus records into, or {@code null}: then nothing is recorded}
   */
  public MeterRegistry registry() {
    return registry;
  }

  /**
   * {@return the operations state of one service of one environment, created on first use}
   *
   * @param environment the environment name
   * @param service     the service name
   */
  public ServiceOps service(String environment, String service) {
    String key = environment + "/" + service;
    ServiceOps ops = services.get(key);
    if (ops != null) {
      return ops;
    }
    boolean[] created = new boolean[1];
    ops = services.computeIfAbsent(key, k -> {
      created[0] = true;
      return new ServiceOps(registry, environment, service);
    });
    if (created[0]) {
      for (Consumer<ServiceOps> listener : listeners) {
        listener.accept(ops);
      }
    }
    return ops;
  }

  /**
   * Calls {@code listener} for every service whose operations state is made from now on (a
   * service registered, called or deployed by hand in this Vertx).
   *
   * @param listener called with each new state
   */
  public void onService(Consumer<ServiceOps> listener) {
    listeners.add(listener);
  }

  /**
   * {@return the names of the services of an environment that have an operations state here, sorted}
   *
   * @param environment the environment name
   */
  public List<String> services(String environment) {
    String prefix = environment + "/";
    List<String> names = new ArrayList<>();
    for (String key : services.keySet()) {
      if (key.startsWith(prefix)) {
        names.add(key.substring(prefix.length()));
      }
    }
    names.sort(null);
    return names;
  }

  /**
   * {@return the operations state of one service, or {@code null} when nothing was recorded for it}
   *
   * @param environment the environment name
   * @param service     the service name
   */
  public ServiceOps find(String environment, String service) {
    return services.get(environment + "/" + service);
  }

  /**
   * Forgets an environment: closes its circuit breakers and removes its meters from the registry.
   *
   * @param environment the environment name
   */
  public void closeEnvironment(String environment) {
    String prefix = environment + "/";
    List<ServiceOps> removed = new ArrayList<>();
    services.entrySet().removeIf(e -> {
      if (e.getKey().startsWith(prefix)) {
        removed.add(e.getValue());
        return true;
      }
      return false;
    });
    removed.forEach(ServiceOps::close);
  }
}
