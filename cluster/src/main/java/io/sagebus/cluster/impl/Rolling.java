package io.sagebus.cluster.impl;

import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * How a rolling replacement of a service's replicas goes (a redeploy: a new class, or new options), one
 * step at a time, as a pure function of a {@link ClusterState} and of what the node agents run: no
 * Hazelcast, no Vert.x. The {@link Roller} asks the agents of the live nodes which versions of the service
 * they run, asks here, carries the step out under the service's lock, and asks again, until no replica of
 * another version than the registration's runs.
 * <ul>
 *   <li>A step adds at most one replica of the new version, and drains at most one of another version, the
 *       new one first: a replica leaves only once one more of the new version serves (or enough of them do).</li>
 *   <li>The new replica goes where {@link Placement} puts a replica, counting only the new version's replicas of
 *       the service: so the new replicas spread over the nodes as a deploy would spread them.</li>
 *   <li>The replica drained is one of the node that just took the new one, when it runs an old one (the spread
 *       stays as it was); else one of the node that runs the most old ones, then the most replicas of the
 *       service, then has the greatest id.</li>
 *   <li>When a new replica is wanted and no live node can take it (none offers the new class, or every one that
 *       does failed to deploy it), the step says why and drains nothing: the old replicas keep serving.</li>
 * </ul>
 */
public final class Rolling {

  private Rolling() {
  }

  /**
   * One step of a rolling replacement.
   *
   * @param add     the node to deploy a replica of the new version on, or {@code null} for none
   * @param drain   the node to drain one replica of another version from (after the new one serves), or
   *                {@code null} for none
   * @param problem why a wanted new replica cannot be placed (then {@code add} and {@code drain} are {@code null}),
   *                or {@code null}
   */
  public record Step(String add, String drain, String problem) {
  }

  /**
   * {@return the next step of a service's rolling replacement, or {@code null} when no replica of another
   * version runs (the replacement is over)}
   *
   * @param state    the cluster's records, with the service's placement record (whose type is the new class)
   * @param service  the service name
   * @param wanted   how many replicas of the new version are wanted
   * @param fresh    the replicas of the new version running, per live node
   * @param outdated the replicas of other versions running, per live node
   * @param excluded nodes that may not take a new replica (one failed to deploy there during this replacement)
   */
  public static Step next(ClusterState state, String service, int wanted, Map<String, Integer> fresh,
                          Map<String, Integer> outdated, Set<String> excluded) {
    TreeMap<String, Integer> old = positive(outdated);
    if (old.isEmpty()) {
      return null;
    }
    TreeMap<String, Integer> now = positive(fresh);
    int freshCount = now.values().stream().mapToInt(Integer::intValue).sum();
    String add = null;
    if (freshCount < wanted) {
      PlacementRecord record = state.placements().get(service);
      PlacementRecord freshOnly = new PlacementRecord(service, record.type(), freshCount + 1, now);
      PlacementPlan plan = Placement.plan(state.with(freshOnly), service, Set.of(), excluded);
      if (plan.add().isEmpty()) {
        return new Step(null, null, plan.problem() != null ? plan.problem()
          : "no live node can take a replica of class " + record.type());
      }
      add = plan.add().firstKey();
    }
    String drain;
    if (add != null && old.containsKey(add)) {
      drain = add;
    } else {
      Comparator<String> most = Comparator.<String>comparingInt(old::get)
        .thenComparingInt(node -> old.get(node) + now.getOrDefault(node, 0))
        .thenComparing(Comparator.naturalOrder());
      drain = old.keySet().stream().max(most).orElseThrow();
    }
    return new Step(add, drain, null);
  }

  private static TreeMap<String, Integer> positive(Map<String, Integer> counts) {
    TreeMap<String, Integer> out = new TreeMap<>();
    counts.forEach((node, n) -> {
      if (n != null && n > 0) {
        out.put(node, n);
      }
    });
    return out;
  }
}
