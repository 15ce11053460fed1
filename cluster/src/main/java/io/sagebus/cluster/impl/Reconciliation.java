package io.sagebus.cluster.impl;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * How reconciliation brings one service's records back to what the node agents really run, as a pure function of a
 * {@link ClusterState} and the agents' answers: no Hazelcast, no Vert.x. The {@link Reconciler} asks the agents of the
 * live nodes what they run, asks here, drains what is to be drained, writes the corrected record, and lets
 * {@link Placement} place what is still missing.
 * <ul>
 *   <li>What runs is the truth: the corrected record holds, for every live node whose agent answered, the replicas
 *       it runs; a live node that did not answer keeps what the record said; nodes that are not live are left out.</li>
 *   <li>A service runs only for a registration that exists, by a live member, placed on the nodes (not a
 *       supplier's), and with a placement record: otherwise every replica found is drained and the record removed.</li>
 *   <li>Replicas beyond the wanted count are drained one at a time, only on nodes whose agent answered: first where
 *       a node runs more than its record counts (a node back from a partition or a freeze, whose replica the rest of
 *       the cluster re-placed while it was gone), then from the node that runs the most of them (among equals, one
 *       drained already, then the largest id).</li>
 * </ul>
 *
 * @param service   the service name
 * @param before    the placement record read, or {@code null} when there was none
 * @param corrected the record once the drains are done, or {@code null} when the service is to have none
 * @param drain     how many replicas to undeploy, per node id (sorted)
 * @param dead      whether the service's registration is gone, or its registering member is (nothing may run for it)
 */
public record Reconciliation(String service, PlacementRecord before, PlacementRecord corrected,
                             SortedMap<String, Integer> drain, boolean dead) {

  /**
   * Copies the components.
   *
   * @throws NullPointerException when the service or the drains are null
   */
  public Reconciliation {
    Objects.requireNonNull(service, "service");
    drain = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(drain));
  }

  /**
   * {@return what to correct for a service}
   *
   * @param state    the cluster's records, read under the service's lock
   * @param service  a service name
   * @param running  the replicas of the service that the agents run, per node id (nodes with none may be left out)
   * @param answered the live nodes whose agents answered: only their counts are known
   */
  public static Reconciliation of(ClusterState state, String service, Map<String, Integer> running,
                                  Set<String> answered) {
    ServiceRecord registration = state.services().get(service);
    PlacementRecord record = state.placements().get(service);
    Map<String, NodeRecord> live = state.liveNodes();
    boolean dead = registration == null || registration.local() || !state.members().contains(registration.member());
    TreeMap<String, Integer> drain = new TreeMap<>();
    if (dead || record == null) {
      running.forEach((node, n) -> {
        if (n > 0 && answered.contains(node) && live.containsKey(node)) {
          drain.put(node, n);
        }
      });
      return new Reconciliation(service, record, null, drain, dead);
    }
    TreeMap<String, Integer> counts = new TreeMap<>();
    for (String node : live.keySet()) {
      int n = answered.contains(node) ? running.getOrDefault(node, 0) : record.on(node);
      if (n > 0) {
        counts.put(node, n);
      }
    }
    int surplus = counts.values().stream().mapToInt(Integer::intValue).sum() - record.replicas();
    for (; surplus > 0; surplus--) {
      String pick = null;
      for (String node : counts.keySet()) {
        if (answered.contains(node) && (pick == null || drainsBefore(node, pick, counts, record, drain))) {
          pick = node;
        }
      }
      if (pick == null) {
        break; // the surplus runs on nodes that did not answer: the next pass sees it
      }
      drain.merge(pick, 1, Integer::sum);
      counts.merge(pick, -1, Integer::sum);
      counts.remove(pick, 0);
    }
    return new Reconciliation(service, record, new PlacementRecord(service, record.type(), record.replicas(), counts),
      drain, false);
  }

  /**
   * Whether a surplus replica is drained from node {@code a} before node {@code b}: first from the node that runs the
   * most replicas its record does not count (a node back from a partition or a freeze runs one the rest of the cluster
   * gave away and placed elsewhere meanwhile: the placement made while it was gone stays), then from the node that runs
   * the most, then from one drained already (fewer requests), then from the largest id.
   */
  private static boolean drainsBefore(String a, String b, Map<String, Integer> counts, PlacementRecord record,
                                      Map<String, Integer> drain) {
    int unrecordedA = counts.get(a) - record.on(a);
    int unrecordedB = counts.get(b) - record.on(b);
    if (unrecordedA != unrecordedB) {
      return unrecordedA > unrecordedB;
    }
    if (!counts.get(a).equals(counts.get(b))) {
      return counts.get(a) > counts.get(b);
    }
    if (drain.containsKey(a) != drain.containsKey(b)) {
      return drain.containsKey(a);
    }
    return a.compareTo(b) > 0;
  }

  /**
   * {@return whether the records already agree with what runs: nothing to drain, and the record unchanged}
   * (Replicas still missing are {@link Placement}'s to place.)
   */
  public boolean agrees() {
    return drain.isEmpty() && Objects.equals(before, corrected);
  }
}
