package io.sagebus.cluster.impl;

import io.sagebus.AutoscalePolicy;
import io.vertx.core.json.JsonObject;

import java.util.Collection;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Sagebus's autoscaling rule, as pure functions: no Hazelcast, no Vert.x, the clock passed in. The
 * {@link Coordinator} of the oldest member reads the replicas' load that the nodes publish, asks
 * {@link #decide} for each service with an {@link AutoscalePolicy}, and carries out a change of
 * count with {@link Placement} (to add) or {@link #shrink} (to drain).
 * <ul>
 *   <li>The count wanted is {@code ceil(calls in flight / targetInFlight)} within {@code [min, max]}.</li>
 *   <li>More replicas are placed once that want has stayed above the count for the upscale delay;
 *       fewer once it has stayed below for the downscale delay. A sample at the count resets both.
 *       The count moves to the want that held through the whole delay: the lowest seen while waiting
 *       to grow, the highest seen while waiting to shrink (a passing spike or lull does not
 *       overshoot).</li>
 *   <li>A count outside {@code [min, max]} is brought inside at once; so is a service with no
 *       replica that has load or that a call asked for (scale from zero is never delayed).</li>
 * </ul>
 */
public final class Autoscaler {

  private Autoscaler() {
  }

  /**
   * What one service's replicas carry now, as the oldest member reads it.
   *
   * @param replicas the replicas wanted by its placement record now
   * @param inFlight the calls its replicas run and hold queued, summed over the live nodes
   * @param demanded whether a call found no replica and asked for one
   */
  public record ServiceLoad(int replicas, double inFlight, boolean demanded) {
  }

  /**
   * What {@link #decide} answered, and what it remembers for the next sample.
   *
   * @param replicas  the replicas to have now (the count the placement record should want)
   * @param wanted    the count the load asks for, within the policy's bounds; while a change waits, the want
   *                  that held since it began (the lowest while growing, the highest while shrinking)
   * @param upSince   since when (ms) the want has stayed above the count, or -1
   * @param downSince since when (ms) the want has stayed below the count, or -1
   * @param why       why the count changes, or {@code null} when it does not
   */
  public record ScalingDecision(int replicas, int wanted, long upSince, long downSince, String why) {

    /** No want pending: what a service starts from. */
    public static final ScalingDecision NONE = new ScalingDecision(-1, -1, -1, -1, null);
  }

  /**
   * {@return the replicas a load asks for: {@code ceil(inFlight / targetInFlight)} within the policy's bounds}
   *
   * @param policy   the policy
   * @param inFlight calls in flight over all replicas
   */
  public static int wanted(AutoscalePolicy policy, double inFlight) {
    double raw = Math.ceil(Math.max(0, inFlight) / policy.getTargetInFlight() - 1e-9);
    int n = raw > policy.getMaxReplicas() ? policy.getMaxReplicas() : (int) raw;
    return Math.max(policy.getMinReplicas(), Math.min(policy.getMaxReplicas(), n));
  }

  /**
   * {@return the decision for one service from its policy, its load now and the previous decision}
   *
   * @param policy   the service's policy
   * @param load     its replicas and load now
   * @param previous the previous decision for it, or {@link ScalingDecision#NONE}
   * @param now      the time now, in milliseconds of a monotonic clock
   */
  public static ScalingDecision decide(AutoscalePolicy policy, ServiceLoad load, ScalingDecision previous, long now) {
    Objects.requireNonNull(previous, "previous");
    int current = load.replicas();
    int wanted = wanted(policy, load.inFlight());
    if (current == 0 && load.demanded()) {
      wanted = Math.max(wanted, 1);
    }
    if (current < policy.getMinReplicas() || current > policy.getMaxReplicas()) {
      int bounded = Math.max(policy.getMinReplicas(), Math.min(policy.getMaxReplicas(), current));
      return new ScalingDecision(bounded, wanted, -1, -1, "the count " + current + " is outside ["
        + policy.getMinReplicas() + ", " + policy.getMaxReplicas() + "]");
    }
    if (current == 0 && wanted > 0) {
      return new ScalingDecision(wanted, wanted, -1, -1, load.demanded() && load.inFlight() <= 0
        ? "a call found no replica" : "calls in flight with no replica");
    }
    if (wanted > current) {
      boolean waiting = previous.upSince() >= 0;
      long since = waiting ? previous.upSince() : now;
      int held = waiting ? Math.min(previous.wanted(), wanted) : wanted; // the want that held all along
      if (now - since >= policy.getUpscaleDelay().toMillis()) {
        return new ScalingDecision(held, held, -1, -1, inFlightText(load) + "; at least " + held
          + " wanted for " + (now - since) + " ms");
      }
      return new ScalingDecision(current, held, since, -1, null);
    }
    if (wanted < current) {
      boolean waiting = previous.downSince() >= 0;
      long since = waiting ? previous.downSince() : now;
      int held = waiting ? Math.max(previous.wanted(), wanted) : wanted;
      if (now - since >= policy.getDownscaleDelay().toMillis()) {
        return new ScalingDecision(held, held, -1, -1, inFlightText(load) + "; at most " + held
          + " wanted for " + (now - since) + " ms");
      }
      return new ScalingDecision(current, held, -1, since, null);
    }
    return new ScalingDecision(current, wanted, -1, -1, null);
  }

  private static String inFlightText(ServiceLoad load) {
    return String.format(java.util.Locale.ROOT, "%.1f calls in flight on %d replica(s)", load.inFlight(),
      load.replicas());
  }

  /**
   * {@return the calls a service's replicas run and hold queued, over the load records of live members}
   * A load record is what a node agent publishes: {@code {"node", "member", "services": {name: {"replicas",
   * "inFlight", "queued"}}}}; records of members that left, and malformed entries, count for nothing.
   *
   * @param service the service name
   * @param loads   the nodes' load records
   * @param members the live members
   */
  public static double inFlight(String service, Collection<JsonObject> loads, Set<String> members) {
    double sum = 0;
    for (JsonObject load : loads) {
      if (!members.contains(load.getString("member"))) {
        continue;
      }
      Object services = load.getValue("services");
      if (services instanceof JsonObject byName && byName.getValue(service) instanceof JsonObject one) {
        sum += count(one.getValue("inFlight")) + count(one.getValue("queued"));
      }
    }
    return sum;
  }

  private static double count(Object value) {
    return value instanceof Number n && n.doubleValue() > 0 ? n.doubleValue() : 0;
  }

  /**
   * How to go down to fewer replicas: the placement afterwards, and the replicas to drain per node.
   *
   * @param after the placement once drained
   * @param drain replicas to undeploy per node id (sorted)
   */
  public record Shrink(PlacementRecord after, SortedMap<String, Integer> drain) {
  }

  /**
   * {@return which replicas to drain so that a service's placement wants {@code replicas}}
   * Replicas on nodes that are not live are dropped from the record without a drain; then replicas
   * leave the node that runs the most of the service, then the most replicas in all, then has the
   * greatest id, one at a time: the reverse of the order in which {@link Placement} adds them.
   *
   * @param state    the cluster's records, with the service's placement
   * @param service  the service
   * @param replicas the count to go down to
   */
  public static Shrink shrink(ClusterState state, String service, int replicas) {
    PlacementRecord current = state.placements().get(service);
    Set<String> live = state.liveNodes().keySet();
    Map<String, Integer> load = new TreeMap<>();
    for (PlacementRecord placement : state.placements().values()) {
      placement.nodes().forEach((node, n) -> load.merge(node, n, Integer::sum));
    }
    PlacementRecord kept = current.keeping(live::contains);
    TreeMap<String, Integer> left = new TreeMap<>(kept.nodes());
    TreeMap<String, Integer> drain = new TreeMap<>();
    Comparator<String> worst = Comparator.<String>comparingInt(left::get)
      .thenComparingInt(node -> load.getOrDefault(node, 0) - drain.getOrDefault(node, 0))
      .thenComparing(Comparator.naturalOrder());
    int excess = kept.running() - replicas;
    for (int i = 0; i < excess && !left.isEmpty(); i++) {
      String node = left.keySet().stream().max(worst).orElseThrow();
      drain.merge(node, 1, Integer::sum);
      if (left.merge(node, -1, Integer::sum) == 0) {
        left.remove(node);
      }
    }
    return new Shrink(new PlacementRecord(service, current.type(), replicas, left), drain);
  }
}
