package io.sagebus.management;

import io.sagebus.Environment;
import io.sagebus.management.impl.LocalNodeDirectory;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Where the management API learns which nodes there are and where each service's replicas run.
 * <p>
 * A local environment has one node, this JVM ({@link #local(Environment)}, the default). A
 * clustered deployment supplies its own implementation, reading the cluster's members and the
 * placement of replicas, and hands it to {@link ManagementServer.Builder#nodes(NodeDirectory)}.
 * Methods are called on an event loop and must not block.
 */
public interface NodeDirectory {

  /**
   * The directory of a single-JVM environment: one node, this JVM, holding every replica.
   *
   * @param environment the environment
   * @return the directory
   */
  static NodeDirectory local(Environment environment) {
    return new LocalNodeDirectory(environment);
  }

  /**
   * {@return the nodes of the deployment, the answering node among them}
   */
  Future<List<NodeInfo>> nodes();

  /**
   * Where the replicas of a service run.
   *
   * @param service a registered service's name
   * @return its running replicas, possibly none; fails with
   *     {@link io.sagebus.ServiceNotFoundException} for a name that is not registered
   */
  Future<List<ReplicaInfo>> replicas(String service);

  /**
   * The jobs that other JVMs of the deployment run or ran, for {@code GET /jobs} beside this
   * environment's own: each in the form of {@link io.sagebus.JobProgress#toJson()}, with the
   * field {@code "member"} naming the JVM that runs it and {@code "updated"} the time of the
   * snapshot (milliseconds since the epoch). A local environment has none (the default).
   *
   * @return their progress, possibly a few seconds old
   */
  default Future<List<JsonObject>> jobs() {
    return Future.succeededFuture(List.of());
  }

  /**
   * The registration of a service that another JVM of the deployment made, for
   * {@code GET /services/{name}} on a node that did not register it (a cluster node calls such a
   * service as it calls its own). A local environment has none (the default).
   *
   * @param service a service name that this environment did not register
   * @return {@code {"name", "type", "member", "local"}} (the class name or {@code supplier}, the
   *     registering JVM's member id, whether its instances run in that JVM), or {@code null} when
   *     no other JVM registered it
   */
  default Future<JsonObject> registration(String service) {
    return Future.succeededFuture(null);
  }

  /**
   * The registrations that the JVMs of the deployment made, for {@code GET /services} on a node
   * (which lists this environment's services with their statistics, then those that other JVMs
   * registered). A local environment has none besides its own (the default).
   *
   * @return {@code {"name", "type", "member", "local"}} of each registration (as {@link #registration(String)}),
   *     this environment's own possibly among them
   */
  default Future<List<JsonObject>> registrations() {
    return Future.succeededFuture(List.of());
  }
}
