package io.sagebus.cluster.impl;

import io.vertx.core.json.JsonObject;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A node of the cluster as the environment's node map holds it: published by its agent when it
 * listens, removed when it leaves or when the oldest member sees its JVM gone.
 *
 * @param node       the node id, unique among the live nodes
 * @param member     the Hazelcast member id of the node's JVM
 * @param host       the member's host
 * @param services   the node's catalogue: service name to class name (sorted by name)
 * @param joined     when the agent joined, in milliseconds since the epoch
 * @param pid        the process id of the node's JVM
 * @param java       the node's Java version
 * @param processors the processors its JVM sees
 */
public record NodeRecord(String node, String member, String host, Map<String, String> services, long joined, long pid,
                         String java, int processors) {

  /**
   * Checks and copies the components.
   *
   * @throws NullPointerException when the node, member or catalogue is null
   */
  public NodeRecord {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(member, "member");
    services = Collections.unmodifiableMap(new TreeMap<>(Objects.requireNonNull(services, "services")));
  }

  /**
   * {@return the record for the JVM it runs in}
   *
   * @param node     the node id
   * @param member   this JVM's Hazelcast member id
   * @param host     its Hazelcast host
   * @param services the node's catalogue: service name to class name
   * @param joined   now, in milliseconds since the epoch
   */
  public static NodeRecord ofThisJvm(String node, String member, String host, Map<String, String> services,
                                     long joined) {
    return new NodeRecord(node, member, host, services, joined, ProcessHandle.current().pid(),
      Runtime.version().toString(), Runtime.getRuntime().availableProcessors());
  }

  /**
   * {@return whether the node's catalogue holds the service with this class}
   *
   * @param service a service name
   * @param type    a class name
   */
  public boolean offers(String service, String type) {
    return type.equals(services.get(service));
  }

  /**
   * {@return the JSON form: {@code {"node", "member", "host", "services": {name: class}, "joined", "pid", "java",
   * "processors"}}}
   */
  public JsonObject toJson() {
    JsonObject catalogue = new JsonObject();
    services.forEach(catalogue::put);
    return new JsonObject()
      .put("node", node)
      .put("member", member)
      .put("host", host)
      .put("services", catalogue)
      .put("joined", joined)
      .put("pid", pid)
      .put("java", java)
      .put("processors", processors);
  }

  /**
   * {@return the record of a JSON form written by {@link #toJson()}}
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when {@code node}, {@code member} or {@code services} is missing
   * @throws ClassCastException       when a field has the wrong type
   */
  public static NodeRecord fromJson(JsonObject json) {
    JsonObject catalogue = json.getJsonObject("services");
    if (json.getString("node") == null || json.getString("member") == null || catalogue == null) {
      throw new IllegalArgumentException("A node record needs \"node\", \"member\" and \"services\": " + json.encode());
    }
    Map<String, String> services = new TreeMap<>();
    for (String name : catalogue.fieldNames()) {
      services.put(name, catalogue.getString(name));
    }
    return new NodeRecord(json.getString("node"), json.getString("member"), json.getString("host"), services,
      json.getLong("joined", 0L), json.getLong("pid", 0L), json.getString("java"), json.getInteger("processors", 0));
  }
}
