package io.sagebus.cluster.impl;

import io.vertx.core.json.JsonObject;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The placement of one service as the environment's placement map holds it: the replicas wanted
 * and those running, per node. Changed only under the service's lock in that map.
 *
 * @param service  the service name
 * @param type     the class its replicas run: only nodes whose catalogue holds the service with this class take them
 * @param replicas how many replicas are wanted
 * @param nodes    replicas running per node id (sorted by node id; no zero counts)
 */
public record PlacementRecord(String service, String type, int replicas, Map<String, Integer> nodes) {

  /**
   * Checks and copies the components.
   *
   * @throws NullPointerException     when a component is null
   * @throws IllegalArgumentException when a count is negative, or a node's count is 0
   */
  public PlacementRecord {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(type, "type");
    if (replicas < 0) {
      throw new IllegalArgumentException("replicas must not be negative, got " + replicas);
    }
    TreeMap<String, Integer> copy = new TreeMap<>(Objects.requireNonNull(nodes, "nodes"));
    copy.forEach((node, n) -> {
      if (n == null || n < 1) {
        throw new IllegalArgumentException("node " + node + " of service '" + service + "' holds " + n + " replicas");
      }
    });
    nodes = Collections.unmodifiableMap(copy);
  }

  /**
   * {@return a placement with no replica running yet}
   *
   * @param service  the service name
   * @param type     its class name
   * @param replicas how many are wanted
   */
  public static PlacementRecord empty(String service, String type, int replicas) {
    return new PlacementRecord(service, type, replicas, Map.of());
  }

  /**
   * {@return the replicas running, on every node}
   */
  public int running() {
    return nodes.values().stream().mapToInt(Integer::intValue).sum();
  }

  /**
   * {@return the replicas running on a node (0 when none)}
   *
   * @param node a node id
   */
  public int on(String node) {
    return nodes.getOrDefault(node, 0);
  }

  /**
   * {@return this placement wanting another class or count, its running replicas kept}
   *
   * @param type     the class name
   * @param replicas the wanted count
   */
  public PlacementRecord wanting(String type, int replicas) {
    return new PlacementRecord(service, type, replicas, nodes);
  }

  /**
   * {@return this placement with more replicas on a node}
   *
   * @param node  a node id
   * @param added how many replicas were added there
   */
  public PlacementRecord plus(String node, int added) {
    Map<String, Integer> more = new TreeMap<>(nodes);
    more.merge(node, added, Integer::sum);
    return new PlacementRecord(service, type, replicas, more);
  }

  /**
   * {@return this placement keeping only the nodes that pass the test}
   *
   * @param keep which node ids to keep
   */
  public PlacementRecord keeping(Predicate<String> keep) {
    Map<String, Integer> kept = new TreeMap<>(nodes);
    kept.keySet().removeIf(keep.negate());
    return new PlacementRecord(service, type, replicas, kept);
  }

  /**
   * {@return the JSON form: {@code {"service", "type", "replicas", "nodes": {nodeId: replicas}}}, nodes by id}
   */
  public JsonObject toJson() {
    JsonObject placed = new JsonObject();
    nodes.forEach(placed::put);
    return new JsonObject().put("service", service).put("type", type).put("replicas", replicas).put("nodes", placed);
  }

  /**
   * {@return the record of a JSON form written by {@link #toJson()}}
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when {@code service}, {@code type} or {@code replicas} is missing
   * @throws ClassCastException       when a field has the wrong type
   */
  public static PlacementRecord fromJson(JsonObject json) {
    if (json.getString("service") == null || json.getString("type") == null || json.getInteger("replicas") == null) {
      throw new IllegalArgumentException("A placement record needs \"service\", \"type\" and \"replicas\": "
        + json.encode());
    }
    JsonObject placed = json.getJsonObject("nodes", new JsonObject());
    Map<String, Integer> nodes = new TreeMap<>();
    for (String node : placed.fieldNames()) {
      int n = placed.getInteger(node);
      if (n > 0) {
        nodes.put(node, n);
      }
    }
    return new PlacementRecord(json.getString("service"), json.getString("type"), json.getInteger("replicas"), nodes);
  }
}
