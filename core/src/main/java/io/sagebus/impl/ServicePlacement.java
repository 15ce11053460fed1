package io.sagebus.impl;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

/**
 * Where the deployment manager of an environment has some of its services deployed, when they
 * do not run in its own JVM: a cluster places class registrations on the nodes whose catalogues
 * hold them. Installed in the Vertx's local shared data under the environment name before the
 * manager starts; the manager deploys in its own JVM every service this placement does not take.
 */
public interface ServicePlacement extends Shareable {

  /** Name of the local map holding one placement per environment. */
  String MAP_NAME = "sagebus.placements";

  /**
   * {@return whether this placement deploys the service, rather than the manager in its JVM}
   *
   * @param definition a registered service
   */
  boolean places(ServiceDefinition definition);

  /**
   * Has the service's replicas ({@link io.sagebus.ServiceOptions#getInstances()}) running
   * somewhere; does nothing more when they already are.
   *
   * @param definition a registered service that {@link #places(ServiceDefinition)} takes
   * @return the number of replicas running once their consumers are registered
   */
  Future<Integer> deploy(ServiceDefinition definition);

  /**
   * Undeploys every replica of a service, each draining its calls.
   *
   * @param service a service name
   * @return the number of replicas undeployed
   */
  Future<Integer> undeploy(String service);

  /**
   * {@return the replicas of a service placed now, as far as this JVM knows}
   *
   * @param service a service name
   */
  int placed(String service);

  /**
   * {@return how this JVM's job ids start: unique among the JVMs that share the placement's records}
   * The manager appends {@code -job-<n>}.
   *
   * @param environment the environment name
   */
  default String jobIdPrefix(String environment) {
    return environment;
  }

  /**
   * Installs a placement for an environment of a Vertx.
   *
   * @param vertx       the Vertx
   * @param environment the environment name
   * @param placement   the placement
   * @throws IllegalStateException when another one is installed
   */
  static void install(Vertx vertx, String environment, ServicePlacement placement) {
    ServicePlacement prev = map(vertx).putIfAbsent(environment, placement);
    if (prev != null && prev != placement) {
      throw new IllegalStateException("Environment '" + environment + "' already has a service placement in this Vertx");
    }
  }

  /**
   * Removes a placement, if it is the one installed.
   *
   * @param vertx       the Vertx
   * @param environment the environment name
   * @param placement   the placement
   */
  static void uninstall(Vertx vertx, String environment, ServicePlacement placement) {
    map(vertx).removeIfPresent(environment, placement);
  }

  /**
   * {@return the placement installed for an environment, or {@code null}}
   *
   * @param vertx       the Vertx
   * @param environment the environment name
   */
  static ServicePlacement lookup(Vertx vertx, String environment) {
    return map(vertx).get(environment);
  }

  private static LocalMap<String, ServicePlacement> map(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP_NAME);
  }
}
