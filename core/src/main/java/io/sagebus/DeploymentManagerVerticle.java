package io.sagebus;

import io.sagebus.impl.env.EnvironmentManager;
import io.sagebus.impl.registry.ServiceDefinition;
import io.sagebus.impl.registry.ServiceRegistry;
import io.sagebus.impl.wire.Protocol;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.function.Supplier;

/**
 * The deployment manager of one environment: it holds the environment's registered services
 * and deploys, undeploys, lists and reports them on request.
 * <p>
 * Registration is a method call in the JVM ({@link #registerService(String, Class, ServiceOptions)}
 * and its variants), because a class or a supplier never travels on the bus. Everything else is
 * asked over the event bus, on the local-only address {@code sagebus.<env>.manager}, with JSON
 * that names services, never classes:
 * <ul>
 *   <li>{@code {"action": "deploy", "service": name}}: deploys the service's instances
 *       (virtual-thread {@link ServiceTaskVerticle}s); answers {@code {"service", "instances"}}
 *       once every consumer is registered. When one instance fails to start, the others are
 *       undeployed again and the request fails. Deploying a running service does nothing. An
 *       optional {@code "owner"} (default {@code "user"}) records who needs the service: a job
 *       names itself, so that its services stop when it ends.</li>
 *   <li>{@code {"action": "release", "owner": owner}}: the owner no longer needs its services;
 *       those that no other owner holds are undeployed.</li>
 *   <li>{@code {"action": "undeploy", "service": name}}: undeploys them, each draining as
 *       {@link ServiceTaskVerticle} describes.</li>
 *   <li>{@code {"action": "list"}}: answers {@code {"services": [{"name", "type", "running",
 *       "options"}]}}.</li>
 *   <li>{@code {"action": "stats", "service": name}}: answers {@link ServiceStats#toJson()}.</li>
 *   <li>{@code {"action": "redeploy", "service": name}}: replaces the running instances with
 *       instances of the service's registration now, one at a time, as
 *       {@link Environment#redeploy(String, ServiceOptions)} does (which replaces the registration,
 *       then asks this); answers {@code {"service", "instances"}} once the last old one has stopped.
 *       A service not running stays so.</li>
 *   <li>{@code {"action": "start", "service": name}}: what a call that found no instance asks: a
 *       deploying service is waited for; one that nothing deployed is deployed for the user, or,
 *       when {@link EnvironmentOptions#isStartOnCall()} is off, refused with {@link FailureCode#NOT_STARTED}.</li>
 * </ul>
 * Failures are answered with {@code message.fail(code, json)}, code
 * {@link FailureCode#BAD_REQUEST} for a bad message or an unregistered name and
 * {@link FailureCode#SERVICE_ERROR} for a failed deployment.
 * <p>
 * {@link LocalEnvironment} creates and deploys one. Code that owns a Vertx may do the same:
 * <pre>{@code
 * DeploymentManagerVerticle manager = new DeploymentManagerVerticle("shop", new EnvironmentOptions());
 * manager.registerService("echo", EchoService.class, new ServiceOptions());
 * vertx.deployVerticle(manager).await();
 * vertx.eventBus().request(DeploymentManagerVerticle.address("shop"),
 *     new JsonObject().put("action", "deploy").put("service", "echo")).await();
 * String reply = ServiceClient.create(vertx, "shop").call("echo", "hi");
 * }</pre>
 * Undeploying the manager undeploys every service it deployed.
 * <p>
 * In a cluster ({@code io.sagebus.cluster.ClusterEnvironment}), services registered by class are
 * deployed by the cluster's placement on the nodes whose catalogues hold them, not in this JVM;
 * the actions above are the same. This class is a thin shell: the work is done by the
 * environment's job manager (running jobs) and service deployer (deploying services).
 */
public final class DeploymentManagerVerticle extends VerticleBase {

  private final EnvironmentManager manager;

  /**
   * A manager for an environment.
   *
   * @param environment the environment name: letters, digits, {@code _} and {@code -}
   * @param options     the environment's default timeouts (copied)
   * @throws IllegalArgumentException when the name is malformed
   */
  public DeploymentManagerVerticle(String environment, EnvironmentOptions options) {
    ServiceRegistry registry = new ServiceRegistry(environment, options == null ? new EnvironmentOptions() : options);
    this.manager = new EnvironmentManager(registry, null);
  }

  /**
   * {@return the event-bus address of its deployment manager}
   *
   * @param environment an environment name
   */
  public static String address(String environment) {
    return Protocol.managerAddress(environment);
  }

  /**
   * {@return the environment's name}
   */
  public String environment() {
    return manager.registry().environment();
  }

  /**
   * Registers a service class; see {@link Environment#registerService(String, Class, ServiceOptions)}.
   *
   * @param name    the service name
   * @param type    the service class
   * @param options its options, or {@code null} for the defaults (copied)
   * @return this
   * @throws IllegalArgumentException when the name is malformed or taken, or the class cannot be instantiated
   */
  public DeploymentManagerVerticle registerService(String name, Class<?> type, ServiceOptions options) {
    manager.registry().register(ServiceDefinition.ofClass(name, type, options));
    return this;
  }

  /**
   * Registers a class annotated with {@link SagebusService}.
   *
   * @param type    the service class
   * @param options its options, or {@code null} for the defaults (copied)
   * @return this
   * @throws IllegalArgumentException when it has no annotation, or as {@link #registerService(String, Class, ServiceOptions)}
   */
  public DeploymentManagerVerticle registerService(Class<?> type, ServiceOptions options) {
    manager.registry().register(ServiceDefinition.ofAnnotated(type, options));
    return this;
  }

  /**
   * Registers a factory; see {@link Environment#registerService(String, Supplier, ServiceOptions)}.
   *
   * @param name    the service name
   * @param factory creates one service object per instance
   * @param options its options, or {@code null} for the defaults (copied)
   * @return this
   * @throws IllegalArgumentException when the name is malformed or taken, or the factory is null
   */
  public DeploymentManagerVerticle registerService(String name, Supplier<?> factory, ServiceOptions options) {
    manager.registry().register(ServiceDefinition.ofSupplier(name, factory, options));
    return this;
  }

  /**
   * {@return the registered service names, sorted}
   */
  public List<String> registeredServices() {
    return manager.registry().names();
  }

  @Override
  public void init(Vertx vertx, Context context) {
    super.init(vertx, context);
    manager.init(vertx, context);
  }

  @Override
  public Future<?> start() {
    return manager.start();
  }

  @Override
  public Future<?> stop() {
    return manager.stop();
  }
}
