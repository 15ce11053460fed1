package io.sagebus.cluster;

import io.sagebus.DataStream;
import io.sagebus.Environment;
import io.sagebus.EnvironmentOptions;
import io.sagebus.ServiceOptions;
import io.sagebus.cluster.impl.ClusterEnvironmentImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;

import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * An environment spread over a Hazelcast cluster: the same API as
 * {@link io.sagebus.LocalEnvironment}, with service replicas on the cluster's nodes.
 * <p>
 * Operators of submitted pipelines run in this JVM (a lambda cannot travel), which may be a
 * Hazelcast lite member ({@link ClusterOptions#setLiteMember(boolean)}). A service registered by
 * class is placed on the nodes whose catalogue (their {@code -conf}) holds the same name with the
 * same class: {@link io.sagebus.ServiceOptions#getInstances()} replicas, each on the live node
 * running the fewest replicas of that service, then the fewest replicas in all, then the smallest
 * node id. The replicas run with the options of the node's catalogue; the timeouts and retry
 * policy of this registration rule the calls made from this JVM. A service registered with a
 * {@link Supplier} runs in this JVM, and is called from the whole cluster. The event bus balances
 * calls over the replicas.
 * <p>
 * Registrations, node records, placements and job records live in Hazelcast maps
 * ({@code sagebus.<env>.services}, {@code .nodes}, {@code .placements}, {@code .jobs}), so any
 * member can list them. When a node dies, the oldest member of the cluster places its replicas on
 * the live nodes again, up to the wanted count; a node that stops (SIGTERM) has its replicas
 * placed elsewhere before it drains them; when the JVM that registered a service dies, the oldest
 * member undeploys that service's replicas, so nothing is left running for nobody. A call that reaches no replica while they are placed
 * waits, up to its deadline, rather than failing; a call sent to a node that just died is lost
 * until Hazelcast notices the death (about half a second on loopback), which is what a
 * {@link io.sagebus.RetryPolicy} with a short attempt timeout is for.
 * <p>
 * {@link #redeploy(String, Class, io.sagebus.ServiceOptions)} (and its variant with options only), called
 * in the JVM that registered the service, replaces the service's replicas one at a time (a rolling
 * replacement): a replica of the new registration serves (its consumer registered in the cluster's
 * subscription map) before one of the old ones leaves the way a planned leave has it leave; with a new
 * class, the new replicas go to the nodes whose catalogue holds the service with that class.
 *
 * <pre>{@code
 * ClusterEnvironment env = ClusterEnvironment.create(
 *     new ClusterOptions().setClusterName("shop").setLiteMember(true), "shop").await();
 * env.registerService("profile", ProfileService.class, new ServiceOptions().setInstances(2));
 * env.start().await();            // two replicas on the nodes
 * env.services().call("profile", "u42");
 * env.close().await();            // undeploys them, leaves the cluster
 * }</pre>
 */
public interface ClusterEnvironment extends Environment {

  /**
   * Joins a cluster with a Vertx of the environment's own, closed (leaving the cluster) by {@link #close()}.
   *
   * @param cluster the cluster settings (copied)
   * @param name    the environment's name: nodes must use the same one
   * @return the environment once joined
   */
  static Future<ClusterEnvironment> create(ClusterOptions cluster, String name) {
    return create(cluster, name, new EnvironmentOptions());
  }

  /**
   * Joins a cluster with a Vertx of the environment's own, closed (leaving the cluster) by {@link #close()}.
   *
   * @param cluster the cluster settings (copied)
   * @param name    the environment's name: nodes must use the same one
   * @param options default timeouts (copied)
   * @return the environment once joined, or a failed future: bad options or name, or why the
   *         cluster could not be joined
   */
  static Future<ClusterEnvironment> create(ClusterOptions cluster, String name, EnvironmentOptions options) {
    return ClusterEnvironmentImpl.create(cluster, name, options);
  }

  /**
   * Creates the environment in a clustered Vertx the caller owns and closes; {@link #close()}
   * leaves the Vertx running.
   *
   * @param vertx   a Vertx clustered on Hazelcast ({@link SagebusCluster#vertx(ClusterOptions)})
   * @param name    the environment's name
   * @param options default timeouts (copied)
   * @return the environment, or a failed future ({@link IllegalArgumentException} when the Vertx
   *         is not clustered on Hazelcast or the name is malformed, {@link IllegalStateException}
   *         when the Vertx has an environment of that name)
   */
  static Future<ClusterEnvironment> create(Vertx vertx, String name, EnvironmentOptions options) {
    return ClusterEnvironmentImpl.create(vertx, name, options);
  }

  /**
   * {@return the live nodes of the environment: {@code [{"node", "member", "services": {name: class}, "joined"}]}, by id}
   */
  Future<JsonArray> nodes();

  /**
   * {@return the placements: {@code [{"service", "type", "replicas", "nodes": {nodeId: replicas}}]}, by service}
   */
  Future<JsonArray> placements();

  /**
   * {@return the job records of every JVM of the environment: {@code [{"id", "status", "member", "started", ...}]}}
   * A finished job's record holds its {@link io.sagebus.JobResult#toJson()} under {@code "result"}.
   */
  Future<JsonArray> jobRecords();

  @Override
  ClusterEnvironment registerService(String name, Class<?> type);

  @Override
  ClusterEnvironment registerService(String name, Class<?> type, ServiceOptions options);

  @Override
  ClusterEnvironment registerService(Class<?> type);

  @Override
  ClusterEnvironment registerService(Class<?> type, ServiceOptions options);

  @Override
  ClusterEnvironment registerService(String name, Supplier<?> factory);

  @Override
  ClusterEnvironment registerService(String name, Supplier<?> factory, ServiceOptions options);

  @Override
  ClusterEnvironment servePipeline(String name, Function<DataStream<Object>, DataStream<?>> pipeline,
                                   ServiceOptions options);

  @Override
  ClusterEnvironment servePipeline(String name, Function<DataStream<Object>, DataStream<?>> pipeline);

  @Override
  ClusterEnvironment registerPipeline(String name, Consumer<Environment> build);
}
