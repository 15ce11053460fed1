package io.sagebus.cluster.impl;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Sagebus's placement rule, as pure functions of a {@link ClusterState}: no Hazelcast, no Vert.x,
 * no clock. The {@link Coordinator} reads the cluster's maps, asks here, and carries out the answer.
 * <ul>
 *   <li>A replica goes to a live node whose catalogue holds the service with the same class: the
 *       one that runs the fewest replicas of that service, then the fewest replicas in all, then
 *       has the smallest id.</li>
 *   <li>Only the difference between the wanted count and the replicas on live nodes is placed:
 *       never more than wanted. A surplus is kept (a node agent undeploys a service's replicas on
 *       a node all at once).</li>
 *   <li>The replicas of a node that died or left no longer count, so they are placed again.</li>
 *   <li>One JVM registers a service name; when it leaves the cluster, its services are drained
 *       from every node and their records removed.</li>
 * </ul>
 */
public final class Placement {

  private Placement() {
  }

  /**
   * {@return the nodes whose record outlived their JVM: their member is no longer in the cluster (sorted)}
   *
   * @param state the cluster's records
   */
  public static List<String> deadNodes(ClusterState state) {
    List<String> dead = new ArrayList<>();
    state.nodes().forEach((id, node) -> {
      if (!state.isLive(node)) {
        dead.add(id);
      }
    });
    return dead;
  }

  /**
   * {@return the services whose registering JVM is no longer in the cluster: nobody is left to undeploy them (sorted)}
   *
   * @param state the cluster's records
   */
  public static List<String> orphanedServices(ClusterState state) {
    List<String> orphans = new ArrayList<>();
    state.services().forEach((name, service) -> {
      if (!state.members().contains(service.member())) {
        orphans.add(name);
      }
    });
    return orphans;
  }

  /**
   * {@return the registration of a service by another live member than this one, if there is one}
   * That member owns the service: it places and undeploys its replicas, and this one may not register it.
   *
   * @param registration the service's record, or {@code null} when it has none
   * @param member       this JVM's member id
   * @param members      the live members
   */
  public static Optional<ServiceRecord> otherOwner(ServiceRecord registration, String member, Set<String> members) {
    if (registration == null || registration.member().equals(member) || !members.contains(registration.member())) {
      return Optional.empty();
    }
    return Optional.of(registration);
  }

  /**
   * {@return the registration of a service by another live member than this one, if there is one}
   *
   * @param state   the cluster's records
   * @param service a service name
   * @param member  this JVM's member id
   */
  public static Optional<ServiceRecord> otherOwner(ClusterState state, String service, String member) {
    return otherOwner(state.services().get(service), member, state.members());
  }

  /**
   * {@return the state with a service wanted at a class and count: its current placement, with replicas kept, or a new one}
   *
   * @param state    the cluster's records
   * @param service  a service name
   * @param type     its class name
   * @param replicas how many replicas are wanted
   */
  public static ClusterState want(ClusterState state, String service, String type, int replicas) {
    PlacementRecord current = state.placements().get(service);
    return state.with(current == null ? PlacementRecord.empty(service, type, replicas) : current.wanting(type, replicas));
  }

  /**
   * {@return the plan that brings a service's placement to its wanted count on the live nodes}
   * A service whose registering JVM left is drained from every live node and removed. A service
   * with no placement record has nothing to do.
   *
   * @param state    the cluster's records
   * @param service  a service name
   * @param forget   nodes whose replicas no longer count (a node that restarted under its id, or is leaving);
   *                 they may still take new ones unless excluded
   * @param excluded nodes that may not take replicas (a node that leaves, or failed to deploy)
   */
  public static PlacementPlan plan(ClusterState state, String service, Set<String> forget, Set<String> excluded) {
    ServiceRecord registration = state.services().get(service);
    PlacementRecord current = state.placements().get(service);
    if (registration != null && !state.members().contains(registration.member())) {
      return drainAll(state, service, current);
    }
    if (current == null) {
      return new PlacementPlan(service, null, null, new TreeMap<>(), List.of(), false, null);
    }
    Map<String, NodeRecord> live = state.liveNodes();
    PlacementRecord kept = current.keeping(node -> live.containsKey(node) && !forget.contains(node));
    TreeMap<String, Integer> add = new TreeMap<>();
    int missing = current.replicas() - kept.running();
    if (missing <= 0) {
      return new PlacementPlan(service, current, kept, add, List.of(), false, null);
    }
    List<String> candidates = new ArrayList<>();
    for (NodeRecord node : live.values()) {
      if (!excluded.contains(node.node()) && node.offers(service, current.type())) {
        candidates.add(node.node());
      }
    }
    if (candidates.isEmpty()) {
      return new PlacementPlan(service, current, kept, add, List.of(), false, noCandidate(service, current.type(), live,
        excluded));
    }
    Map<String, Integer> load = load(state, kept, live);
    Comparator<String> best = Comparator.<String>comparingInt(node -> kept.on(node) + add.getOrDefault(node, 0))
      .thenComparingInt(node -> load.getOrDefault(node, 0) + add.getOrDefault(node, 0))
      .thenComparing(Comparator.naturalOrder());
    for (int i = 0; i < missing; i++) {
      add.merge(candidates.stream().min(best).orElseThrow(), 1, Integer::sum);
    }
    return new PlacementPlan(service, current, kept, add, List.of(), false, null);
  }

  /**
   * {@return the plan that undeploys every replica of a service from the live nodes and removes its placement}
   *
   * @param state   the cluster's records
   * @param service a service name
   */
  public static PlacementPlan undeploy(ClusterState state, String service) {
    return drainAll(state, service, state.placements().get(service));
  }

  private static PlacementPlan drainAll(ClusterState state, String service, PlacementRecord current) {
    List<String> drain = new ArrayList<>();
    if (current != null) {
      Map<String, NodeRecord> live = state.liveNodes();
      current.nodes().keySet().stream().filter(live::containsKey).forEach(drain::add);
    }
    return new PlacementPlan(service, current, null, new TreeMap<>(), drain, true, null);
  }

  /** Replicas per live node over every service, this one counted as kept. */
  private static Map<String, Integer> load(ClusterState state, PlacementRecord kept, Map<String, NodeRecord> live) {
    Map<String, Integer> load = new HashMap<>();
    for (PlacementRecord placement : state.placements().values()) {
      PlacementRecord counted = placement.service().equals(kept.service()) ? kept : placement;
      counted.nodes().forEach((node, n) -> {
        if (live.containsKey(node)) {
          load.merge(node, n, Integer::sum);
        }
      });
    }
    return load;
  }

  private static String noCandidate(String service, String type, Map<String, NodeRecord> live, Set<String> excluded) {
    List<String> otherType = new ArrayList<>();
    List<String> sameTypeExcluded = new ArrayList<>();
    for (NodeRecord node : live.values()) {
      String theirs = node.services().get(service);
      if (type.equals(theirs)) {
        sameTypeExcluded.add(node.node());
      } else if (theirs != null) {
        otherType.add(node.node() + " (" + theirs + ")");
      }
    }
    if (!sameTypeExcluded.isEmpty()) {
      return "every live node that could run service '" + service + "' is excluded: " + sameTypeExcluded;
    }
    List<String> ids = new ArrayList<>(live.keySet());
    ids.removeAll(excluded);
    return "no live node has service '" + service + "' of class " + type + " in its catalogue (live nodes: " + ids
      + (otherType.isEmpty() ? "" : "; with another class: " + otherType)
      + "). Start a node whose -conf lists it, or register a Supplier to run it in this JVM";
  }
}
