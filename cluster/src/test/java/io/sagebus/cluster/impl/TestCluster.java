package io.sagebus.cluster.impl;

import io.sagebus.ServiceOptions;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** A cluster built up in a test: nodes (each its own member), registrations and placements. */
final class TestCluster {
  final Map<String, NodeRecord> nodes = new HashMap<>();
  final Map<String, ServiceRecord> services = new HashMap<>();
  final Map<String, PlacementRecord> placements = new HashMap<>();
  final Set<String> members = new HashSet<>(Set.of("client"));

  TestCluster node(String id, Map<String, String> catalogue) {
    nodes.put(id, new NodeRecord(id, "m-" + id, "127.0.0.1", catalogue, 1, 1, "25", 2));
    members.add("m-" + id);
    return this;
  }

  TestCluster echoNodes(String... ids) {
    for (String id : ids) {
      node(id, Map.of("echo", PlacementTest.ECHO, "other", PlacementTest.ECHO));
    }
    return this;
  }

  TestCluster dies(String id) {
    members.remove("m-" + id);
    return this;
  }

  TestCluster registered(String service, String member) {
    services.put(service, new ServiceRecord(service, PlacementTest.ECHO, false, member, new ServiceOptions()));
    return this;
  }

  TestCluster placed(String service, int replicas, Map<String, Integer> onNodes) {
    placements.put(service, new PlacementRecord(service, PlacementTest.ECHO, replicas, onNodes));
    return this;
  }

  ClusterState state() {
    return new ClusterState(services, nodes, members, placements);
  }
}
