package io.sagebus.cluster.impl;

import com.hazelcast.map.IMap;
import io.sagebus.cluster.ClusterEnvironment;
import io.sagebus.cluster.SagebusCluster;
import io.sagebus.management.NodeDirectory;
import io.sagebus.management.NodeInfo;
import io.sagebus.management.ReplicaInfo;
import io.sagebus.management.impl.LocalNodeDirectory;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The management API's view of a cluster: the live nodes from the environment's node map (their
 * uptime counts from when their agent joined; heap and running jobs only for this JVM's node; the
 * services each runs from the placement records and, for services registered with a supplier, the
 * registrations), the replicas of a service from its placement record, and the registrations that
 * other JVMs made from the environment's map of registered services.
 */
public final class ClusterNodeDirectory implements NodeDirectory {

  private final ClusterEnvironment environment;
  private final String member;
  private final IMap<String, String> registrations;

  /**
   * A directory for an environment.
   *
   * @param environment the clustered environment
   * @param member      this JVM's Hazelcast member id
   */
  public ClusterNodeDirectory(ClusterEnvironment environment, String member) {
    this.environment = environment;
    this.member = member;
    this.registrations = SagebusCluster.hazelcast(environment.vertx())
      .getMap(Coordinator.mapName(environment.name(), "services"));
  }

  /** {@return every registration of the environment, in any JVM, as the map holds it} */
  private Future<List<JsonObject>> records() {
    return environment.vertx().executeBlocking(() -> {
      List<JsonObject> all = new ArrayList<>();
      for (String json : registrations.values()) {
        all.add(new JsonObject(json));
      }
      return all;
    }, false);
  }

  /** {@return the names of the services that run on a node: placed there, or registered there with a supplier} */
  private static JsonArray servicesOf(JsonObject node, JsonArray placements, List<JsonObject> registered) {
    Set<String> names = new TreeSet<>();
    String id = node.getString("node");
    for (Object o : placements) {
      JsonObject p = (JsonObject) o;
      JsonObject nodes = p.getJsonObject("nodes", new JsonObject());
      if (nodes.getInteger(id, 0) > 0) {
        names.add(p.getString("service"));
      }
    }
    for (JsonObject r : registered) {
      if (r.getBoolean("local", false) && Objects.equals(r.getString("member"), node.getString("member"))) {
        names.add(r.getString("name"));
      }
    }
    return new JsonArray(new ArrayList<>(names));
  }

  @Override
  public Future<List<NodeInfo>> nodes() {
    Future<JsonArray> records = environment.nodes();
    Future<JsonArray> placements = environment.placements();
    Future<List<JsonObject>> registered = records();
    return Future.all(records, placements, registered).map(all -> {
      List<NodeInfo> nodes = new ArrayList<>();
      for (Object o : records.result()) {
        NodeRecord r = NodeRecord.fromJson((JsonObject) o);
        long joined = r.joined();
        boolean self = member.equals(r.member());
        JsonObject details = new JsonObject()
          .put("environment", environment.name())
          .put("mode", "cluster")
          .put("member", r.member())
          .put("catalogue", r.toJson().getJsonObject("services"))
          .put("joined", joined)
          .put("uptimeMillis", joined == 0 ? null : Math.max(0, System.currentTimeMillis() - joined))
          .put("pid", r.pid() == 0 ? null : r.pid())
          .put("java", r.java())
          .put("processors", r.processors() == 0 ? null : r.processors())
          .put("services", servicesOf(r.toJson(), placements.result(), registered.result()));
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
  public Future<List<JsonObject>> registrations() {
    return records().map(all -> all.stream().map(r -> new JsonObject().put("name", r.getString("name"))
      .put("type", r.getString("type")).put("member", r.getString("member")).put("local", r.getBoolean("local", false)))
      .toList());
  }

  @Override
  public Future<JsonObject> registration(String service) {
    return Future.fromCompletionStage(registrations.getAsync(service), environment.vertx().getOrCreateContext())
      .map(json -> {
        if (json == null) {
          return null;
        }
        JsonObject r = new JsonObject(json);
        return new JsonObject().put("name", service).put("type", r.getString("type")).put("member", r.getString("member"))
          .put("local", r.getBoolean("local", false));
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
