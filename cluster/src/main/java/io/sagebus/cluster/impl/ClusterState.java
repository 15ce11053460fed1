package io.sagebus.cluster.impl;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What placement decides from: a snapshot of an environment's records and of the cluster's live
 * members. Plain values: {@link Placement} reads it without Hazelcast.
 *
 * @param services   the registrations by service name
 * @param nodes      the node records by node id, live or not
 * @param members    the Hazelcast member ids in the cluster now
 * @param placements the placements by service name
 */
public record ClusterState(Map<String, ServiceRecord> services, Map<String, NodeRecord> nodes, Set<String> members,
                           Map<String, PlacementRecord> placements) {

  /**
   * Copies the components.
   *
   * @throws NullPointerException when a component is null
   */
  public ClusterState {
    services = Collections.unmodifiableMap(new TreeMap<>(services));
    nodes = Collections.unmodifiableMap(new TreeMap<>(nodes));
    members = Collections.unmodifiableSet(new TreeSet<>(members));
    placements = Collections.unmodifiableMap(new TreeMap<>(placements));
  }

  /**
   * {@return whether a node's JVM is still a member of the cluster}
   *
   * @param node a node record
   */
  public boolean isLive(NodeRecord node) {
    return members.contains(node.member());
  }

  /**
   * {@return the live nodes by id (sorted)}
   */
  public Map<String, NodeRecord> liveNodes() {
    Map<String, NodeRecord> live = new TreeMap<>();
    nodes.forEach((id, node) -> {
      if (isLive(node)) {
        live.put(id, node);
      }
    });
    return live;
  }

  /**
   * {@return this state with one placement replaced (or added)}
   *
   * @param placement the placement
   */
  public ClusterState with(PlacementRecord placement) {
    Map<String, PlacementRecord> changed = new TreeMap<>(placements);
    changed.put(placement.service(), Objects.requireNonNull(placement, "placement"));
    return new ClusterState(services, nodes, members, changed);
  }
}
