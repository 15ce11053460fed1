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
        NodeRecord r = NodeRecord.fromJson((JsonObject) o);
        long joined = r.joined();
        boolean self = member.equals(r.member());
        JsonObject details = new JsonObject()
          .put("mode", "cluster")
          .put("member", r.member())
          .put("catalogue", r.toJson().getJsonObject("services"))
          .put("joined", joined)
          .put("uptimeMillis", joined == 0 ? null : Math.max(0, System.currentTimeMillis() - joined))
          .put("pid", r.pid() == 0 ? null : r.pid())
          .put("java", r.java())
          .put("processors", r.processors() == 0 ? null : r.processors());
        if (self) {
          // Read here, for this JVM only: the node records do not carry what changes all the time.
          LocalNodeDirectory.putLoad(details, environment);
        }
        nodes.add(new NodeInfo(r.node(), r.host() == null ? "?" : r.host(), self, details));
      }
      return nodes;
    });
  }

  @Override
  public Future<List<JsonObject>> jobs() {
    return environment.jobRecords().map(records -> {
      List<JsonObject> jobs = new ArrayList<>();
      for (Object o : records) {
        JobRecord r = JobRecord.fromJson((JsonObject) o);
        jobs.add(r.progress().put("status", r.status()).put("member", r.member()).put("updated", r.updated()));
      }
      return jobs;
    });
  }

  @Override
  public Future<List<ReplicaInfo>> replicas(String service) {
    return environment.placements().map(records -> {
      List<ReplicaInfo> replicas = new ArrayList<>();
      for (Object o : records) {
        PlacementRecord r = PlacementRecord.fromJson((JsonObject) o);
        if (!service.equals(r.service())) {
          continue;
        }
        r.nodes().forEach((node, n) -> {
          for (int i = 0; i < n; i++) {
            replicas.add(new ReplicaInfo(service, replicas.size(), node));
          }
        });
      }
      return replicas;
    });
  }
}
