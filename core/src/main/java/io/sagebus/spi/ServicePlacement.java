package io.sagebus.spi;

import io.sagebus.impl.registry.ServiceDefinition;

import io.vertx.core.Future;

/**
 * Where an environment has some of its services deployed, when they do not run in its own JVM: a
 * cluster places class registrations on the nodes whose catalogues hold them. Handed to the
 * environment when the cluster creates it ({@link ClusterSupport}); the environment deploys in its
 * own JVM every service this placement does not take.
 */
public interface ServicePlacement {

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
   * Replaces the replicas of a service it placed with replicas of the service's registration now (a
   * redeploy: another class, or other options), one at a time: a new replica serves before an old one
   * leaves, refusing what reaches it as a leaving replica does, and drains its calls. Places the service's
   * replicas when none are.
   *
   * @param definition the service's registration now, which {@link #places(ServiceDefinition)} takes
   * @return the number of replicas running once the last old one has left; fails when a new replica cannot be
   *         placed (the old ones left keep serving)
   */
  Future<Integer> redeploy(ServiceDefinition definition);

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
}
