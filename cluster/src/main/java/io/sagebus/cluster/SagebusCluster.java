package io.sagebus.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.NoDataMemberInClusterException;
import io.sagebus.ops.SagebusMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.Objects;

/**
 * Starts clustered Vert.x instances on Hazelcast with {@link ClusterOptions}, and reaches the
 * Hazelcast member under one.
 * <pre>{@code
 * Vertx vertx = SagebusCluster.vertx(new ClusterOptions().setClusterName("shop-prod")).await();
 * // services deployed on it consume clustered addresses; close it to leave the cluster
 * vertx.close().await();
 * }</pre>
 */
public final class SagebusCluster {

  private SagebusCluster() {
  }

  /**
   * Starts a clustered Vertx: a Hazelcast member configured by
   * {@link ClusterOptions#toHazelcastConfig()} joins the members named in the options, and the
   * event bus listens on {@link ClusterOptions#getHost()} on a free port
   * ({@link ClusterOptions#toVertxOptions()}). The options are copied.
   * <p>
   * A node that finds no member of its cluster name forms a new cluster of its own. Closing the
   * Vertx leaves the cluster.
   *
   * @param options the cluster settings; the cluster name must be set
   * @return the Vertx once it has joined, or a failed future: {@link IllegalStateException} or
   *         {@link NullPointerException} for invalid options, else the reason Hazelcast or the
   *         event bus could not start (no free port in the range, for example); an
   *         {@link IllegalStateException} when a lite member finds no data member to join
   */
  public static Future<Vertx> vertx(ClusterOptions options) {
    return vertx(options, false);
  }

  /**
   * Like {@link #vertx(ClusterOptions)}, optionally recording Micrometer metrics
   * ({@link SagebusMetrics#metricsOptions()}): Sagebus's, the event bus's and the JVM's, for
   * {@link SagebusMetrics#scrape(Vertx)}.
   *
   * @param options the cluster settings; the cluster name must be set
   * @param metrics whether the Vertx records metrics
   * @return as {@link #vertx(ClusterOptions)}
   */
  public static Future<Vertx> vertx(ClusterOptions options, boolean metrics) {
    Config config;
    VertxOptions vertxOptions;
    try {
      ClusterOptions copy = new ClusterOptions(Objects.requireNonNull(options, "options"));
      config = copy.toHazelcastConfig();
      vertxOptions = copy.toVertxOptions();
      if (metrics) {
        vertxOptions.setMetricsOptions(SagebusMetrics.metricsOptions());
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    boolean lite = options.isLiteMember();
    return Vertx.builder()
      .with(vertxOptions)
      .withClusterManager(new HazelcastClusterManager(config))
      .buildClustered()
      .recover(e -> Future.failedFuture(lite && causedBy(e, NoDataMemberInClusterException.class)
        ? new IllegalStateException("A lite member cannot start a cluster on its own: no data member of cluster '"
          + options.getClusterName() + "' was found at " + options.getMembers() + ". Start a node first, or join as a "
          + "full member (ClusterOptions.setLiteMember(false))", e)
        : e));
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The Hazelcast member a clustered Vertx runs on, for what Vert.x does not expose: membership
   * listeners, the member list, distributed maps.
   *
   * @param vertx a Vertx started by {@link #vertx(ClusterOptions)} (or clustered on Hazelcast otherwise)
   * @return its Hazelcast instance
   * @throws IllegalArgumentException when the Vertx is not clustered on Hazelcast, or not yet joined
   */
  public static HazelcastInstance hazelcast(Vertx vertx) {
    ClusterManager manager = vertx instanceof VertxInternal internal ? internal.clusterManager() : null;
    if (!(manager instanceof HazelcastClusterManager hazelcast)) {
      throw new IllegalArgumentException("This Vertx is not clustered on Hazelcast (cluster manager: "
        + (manager == null ? "none" : manager.getClass().getName()) + "); start it with SagebusCluster.vertx(...)");
    }
    HazelcastInstance instance = hazelcast.getHazelcastInstance();
    if (instance == null) {
      throw new IllegalArgumentException("This Vertx's Hazelcast member has not started (it has not joined yet)");
    }
    return instance;
  }
}
