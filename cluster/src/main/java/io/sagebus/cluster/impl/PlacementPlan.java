package io.sagebus.cluster.impl;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What {@link Placement} decided for one service: the replicas to add on which nodes, the nodes
 * whose replicas to drain, and the placement record once that is done. The coordinator carries it
 * out under the service's lock; a node that fails to deploy is excluded and placement asked again.
 *
 * @param service the service name
 * @param current the placement record the plan started from, or {@code null} when there was none
 * @param kept    the placement of the replicas that still count (those on live nodes, not forgotten), or
 *                {@code null} when the placement is to be removed
 * @param add     replicas to deploy, per node id (sorted by node id)
 * @param drain   the nodes whose replicas of the service are to be undeployed (sorted)
 * @param remove  whether the service's records are to be removed once drained (its registering JVM is gone)
 * @param problem why the wanted count cannot be reached, or {@code null} when it is (or nothing is wanted)
 */
public record PlacementPlan(String service, PlacementRecord current, PlacementRecord kept, SortedMap<String, Integer> add,
                            List<String> drain, boolean remove, String problem) {

  /**
   * Copies the components.
   *
   * @throws NullPointerException when the service, additions or drains are null
   */
  public PlacementPlan {
    Objects.requireNonNull(service, "service");
    add = Collections.unmodifiableSortedMap(new TreeMap<>(add));
    drain = List.copyOf(drain);
  }

  /**
   * {@return the placement once the plan is carried out in full, or {@code null} when it is removed}
   */
  public PlacementRecord target() {
    if (kept == null) {
      return null;
    }
    PlacementRecord target = kept;
    for (Map.Entry<String, Integer> step : add.entrySet()) {
      target = target.plus(step.getKey(), step.getValue());
    }
    return target;
  }

  /**
   * {@return how many replicas the plan adds}
   */
  public int added() {
    return add.values().stream().mapToInt(Integer::intValue).sum();
  }

  /**
   * {@return whether the plan changes nothing: nothing to add, drain or remove, and no record to rewrite}
   */
  public boolean isEmpty() {
    return add.isEmpty() && drain.isEmpty() && !remove && Objects.equals(current, kept);
  }
}
