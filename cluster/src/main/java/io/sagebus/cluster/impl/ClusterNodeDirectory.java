package io.sagebus.cluster.impl;

import io.sagebus.cluster.ClusterEnvironment;
import io.sagebus.management.NodeDirectory;
import io.sagebus.management.NodeInfo;
import io.sagebus.management.ReplicaInfo;
import io.sagebus.management.impl.LocalNodeDirectory;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The management API's view of a cluster: the live nodes from the environment's node map (their
 * uptime counts from when their agent joined; heap and running jobs only for this JVM's node), and the
 * replicas of a service from its placement record (a service running in the registering JVM, a
 * supplier, shows as its replicas there).
 */
public final class ClusterNodeDirectory implements NodeDirectory {

  private final ClusterEnvironment environment;
  private final String member;

  /**
   * A directory for an environment.
   *
   * @param environment the clustered environment
   * @param member      this JVM's Hazelcast member id
   */
  public ClusterNodeDirectory(ClusterEnvironment environment, String member) {
    this.environment = environment;
    this.member = member;
  }

  @Override
  public Future<List<NodeInfo>> nodes() {
    return environment.nodes().map(records -> {
      List<NodeInfo> nodes = new ArrayList<>();
      for (Object o : records) {
        JsonObject r = (JsonObject) o;
        long joined = r.getLong("joined", 0L);
        boolean self = member.equals(r.getString("member"));
        JsonObject details = new JsonObject()
          .put("mode", "cluster")
          .put("member", r.getString("member"))
          .put("catalogue", r.getJsonObject("services"))
          .put("joined", joined)
          .put("uptimeMillis", joined == 0 ? null : Math.max(0, System.currentTimeMillis() - joined))
          .put("pid", r.getValue("pid"))
          .put("java", r.getString("java"))
          .put("processors", r.getValue("processors"));
        if (self) {
          // Read here, for this JVM only: the node records do not carry what changes all the time.
          LocalNodeDirectory.putLoad(details, environment);
        }
        nodes.add(new NodeInfo(r.getString("node"), r.getString("host", "?"), self, details));
      }
      return nodes;
    });
  }

  @Override
  public Future<List<JsonObject>> jobs() {
    return environment.jobRecords().map(records -> {
      List<JsonObject> jobs = new ArrayList<>();
      for (Object o : records) {
        JsonObject r = (JsonObject) o;
        JsonObject progress = r.getJsonObject("progress");
        if (progress != null) {
          jobs.add(progress.copy().put("status", r.getString("status")).put("member", r.getString("member"))
            .put("updated", r.getLong("updated")));
        }
      }
      return jobs;
    });
  }

  @Override
  public Future<List<ReplicaInfo>> replicas(String service) {
    return environment.placements().map(records -> {
      List<ReplicaInfo> replicas = new ArrayList<>();
      for (Object o : records) {
        JsonObject r = (JsonObject) o;
        if (!service.equals(r.getString("service"))) {
          continue;
        }
        JsonObject nodes = r.getJsonObject("nodes");
        for (String node : nodes.fieldNames().stream().sorted().toList()) {
          for (int i = 0; i < nodes.getInteger(node); i++) {
            replicas.add(new ReplicaInfo(service, replicas.size(), node));
          }
        }
      }
      return replicas;
    });
  }
}
