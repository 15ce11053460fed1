package io.sagebus.impl;

import io.sagebus.EnvironmentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The services registered in one environment of one Vertx, with their counters, and the
 * environment's resource tracker. Kept in the Vertx's local shared data under the environment
 * name, so that any code holding the Vertx finds it: there is no static registry.
 */
public final class ServiceRegistry implements Shareable {

  /** Name of the local map holding one registry per environment. */
  static final String MAP_NAME = "sagebus.environments";

  private final String environment;
  private final EnvironmentOptions options;
  private final ResourceTracker tracker = new ResourceTracker();
  private final Map<String, Registration> services = new ConcurrentHashMap<>();

  /**
   * Creates an empty registry.
   *
   * @param environment the environment name
   * @param options     its options (copied)
   */
  public ServiceRegistry(String environment, EnvironmentOptions options) {
    this.environment = ServiceDefinition.checkName("environment", environment);
    this.options = new EnvironmentOptions(options);
  }

  /**
   * Finds the registry of an environment.
   *
   * @param vertx       the Vertx
   * @param environment the environment name
   * @return its registry, or {@code null} when no such environment runs in {@code vertx}
   */
  public static ServiceRegistry lookup(Vertx vertx, String environment) {
    return map(vertx).get(environment);
  }

  private static LocalMap<String, ServiceRegistry> map(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP_NAME);
  }

  /**
   * Publishes this registry in {@code vertx}.
   *
   * @param vertx the Vertx
   * @throws IllegalStateException when another environment of the same name is there
   */
  public void install(Vertx vertx) {
    ServiceRegistry existing = map(vertx).putIfAbsent(environment, this);
    if (existing != null && existing != this) {
      throw new IllegalStateException("This Vertx already has a Sagebus environment named '" + environment
        + "': close it first, or choose another name");
    }
  }

  /**
   * Removes this registry from {@code vertx}, if it is the one published there.
   *
   * @param vertx the Vertx
   */
  public void uninstall(Vertx vertx) {
    map(vertx).removeIfPresent(environment, this);
  }

  /**
   * {@return the environment name}
   */
  public String environment() {
    return environment;
  }

  /**
   * {@return the environment's options}
   */
  public EnvironmentOptions options() {
    return options;
  }

  /**
   * {@return the environment's resource tracker}
   */
  public ResourceTracker tracker() {
    return tracker;
  }

  /**
   * {@return its registration}
   *
   * @param definition a validated definition
   * @throws IllegalArgumentException when the name is taken
   */
  public Registration register(ServiceDefinition definition) {
    Registration reg = new Registration(definition, new ServiceMetrics());
    Registration prev = services.putIfAbsent(definition.name(), reg);
    if (prev != null) {
      throw new IllegalArgumentException("Service '" + definition.name() + "' is already registered in environment '"
        + environment + "' (as " + prev.definition().typeName() + "): choose another name");
    }
    return reg;
  }

  /**
   * {@return its registration, or {@code null}}
   *
   * @param service a service name
   */
  public Registration get(String service) {
    return services.get(service);
  }

  /**
   * {@return the registered names, sorted}
   */
  public List<String> names() {
    return services.keySet().stream().sorted().toList();
  }

  /**
   * A registered service and its counters.
   *
   * @param definition what was registered
   * @param metrics    its counters in this JVM
   */
  public record Registration(ServiceDefinition definition, ServiceMetrics metrics) {
  }
}
