package io.sagebus.spi;

import java.util.Objects;

/**
 * What a cluster hands a local environment when it creates it ({@code ClusterEnvironment} builds
 * one over a clustered Vertx): where its class registrations are placed, and which services are
 * registered in other JVMs. The only place core and the cluster module meet.
 *
 * @param placement deploys the services the cluster places, on the nodes whose catalogues hold them
 * @param directory knows the services registered elsewhere in the cluster
 */
public record ClusterSupport(ServicePlacement placement, ServiceDirectory directory) {

  /**
   * Checks both parts.
   *
   * @param placement deploys the services the cluster places
   * @param directory knows the services registered elsewhere
   * @throws NullPointerException when one is null
   */
  public ClusterSupport {
    Objects.requireNonNull(placement, "placement");
    Objects.requireNonNull(directory, "directory");
  }
}
