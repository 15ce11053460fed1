package io.sagebus.cluster.impl;

import io.sagebus.AutoscalePolicy;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The autoscaling step that a {@link Coordinator} runs every {@link #PERIOD_MS} ms on the oldest
 * member: for every placed service whose registration has an {@link AutoscalePolicy}, it sums the
 * load the nodes published, asks {@link Autoscaler#decide}, and has the coordinator change the
 * count when the decision says so. It remembers the pending wants of each service (since when the
 * load asked for more or fewer); a member that becomes the oldest starts with none, so a delay
 * starts again there. Runs on the coordinator's virtual thread, one step at a time.
 */
final class AutoscaleLoop {

  private static final Logger LOG = LoggerFactory.getLogger(AutoscaleLoop.class);
  /** How often the oldest member decides: every 500 ms, as often as the nodes publish their load. */
  static final long PERIOD_MS = 500;

  /** What the loop needs of its coordinator. */
  interface Cluster {
    /** {@return the environment's records and live members, read now} */
    ClusterState state();

    /** {@return the load records the nodes published, live or not} */
    Collection<JsonObject> loads();

    /** {@return the services a call asked a replica of, because it found none} */
    Set<String> demanded();

    /**
     * Brings a service to a count of replicas, under its lock, if its placement still wants {@code from}.
     *
     * @param service the service
     * @param from    the count the decision started from
     * @param to      the count to have
     * @param why     why, for the log
     */
    void resize(String service, int from, int to, String why);

    /**
     * Forgets that a call asked for a replica of the service.
     *
     * @param service the service
     */
    void served(String service);
  }

  private final String environment;
  private final Cluster cluster;
  private final Map<String, Autoscaler.ScalingDecision> decisions = new HashMap<>();

  AutoscaleLoop(String environment, Cluster cluster) {
    this.environment = environment;
    this.cluster = cluster;
  }

  /** Forgets every pending want: this member is not (or no longer) the one that decides. */
  void reset() {
    decisions.clear();
  }

  /** One step over every autoscaled service. */
  void step(long now) {
    ClusterState state = cluster.state();
    Collection<JsonObject> loads = null;
    Set<String> demanded = null;
    for (PlacementRecord placement : state.placements().values()) {
      String service = placement.service();
      ServiceRecord registration = state.services().get(service);
      AutoscalePolicy policy = registration == null || registration.local() ? null
        : registration.options().getAutoscale();
      if (policy == null || !state.members().contains(registration.member())) {
        decisions.remove(service);
        continue;
      }
      if (loads == null) {
        loads = cluster.loads();
        demanded = cluster.demanded();
      }
      Autoscaler.ServiceLoad load = new Autoscaler.ServiceLoad(placement.replicas(),
        Autoscaler.inFlight(service, loads, state.members()), demanded.contains(service));
      Autoscaler.ScalingDecision decision = Autoscaler.decide(policy, load,
        decisions.getOrDefault(service, Autoscaler.ScalingDecision.NONE), now);
      decisions.put(service, decision);
      if (decision.replicas() != placement.replicas()) {
        try {
          cluster.resize(service, placement.replicas(), decision.replicas(), decision.why());
        } catch (RuntimeException e) {
          LOG.warn("Environment '{}': scaling '{}' from {} to {} replicas failed", environment, service,
            placement.replicas(), decision.replicas(), e);
        }
      }
      if (load.demanded() && (decision.replicas() > 0 || placement.replicas() > 0)) {
        cluster.served(service);
      }
    }
    decisions.keySet().retainAll(state.placements().keySet());
  }
}
