package io.sagebus.cluster.impl;

import io.sagebus.AutoscalePolicy;
import io.sagebus.ServiceOptions;
import io.sagebus.cluster.NodeAgentVerticle;
import io.sagebus.impl.registry.ServiceDefinition;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Carries out a rolling replacement of a service's replicas for the {@link Coordinator} of the JVM that
 * registered it (a redeploy), on the coordinator's virtual thread: it points the service's placement at the
 * registration's class, then, one step at a time under the service's lock, asks the live nodes' agents which
 * versions they run, asks {@link Rolling} what to do, deploys one replica of the registration's version and
 * waits until its consumer is registered in the cluster's subscription map, then drains one replica of another
 * version (it leaves as a node agent's undeploy has it leave: refusing what reaches it with LEAVING, which its
 * caller sends elsewhere, then draining its executing calls), and writes the placement record to what runs.
 * Between steps the lock is free: failover, reconciliation and autoscaling see records that agree with what
 * runs. Once no old replica runs, the wanted count is placed (or trimmed) as a deploy would.
 * <p>
 * Every member learns of the new replica's registration before it learns that an old one left (both are
 * changes of the same key of Vert.x's subscription map, which Hazelcast delivers to each member in order),
 * so no member is ever left without a replica to route a call to.
 */
final class Roller {

  private static final Logger LOG = LoggerFactory.getLogger(Roller.class);
  /** How long an agent may take to say what it runs. */
  private static final long LIST_TIMEOUT_MS = 10_000;

  private final Coordinator coordinator;
  private final Vertx vertx;
  private final String environment;

  Roller(Coordinator coordinator, Vertx vertx, String environment) {
    this.coordinator = coordinator;
    this.vertx = vertx;
    this.environment = environment;
  }

  /** The version rolled to and the replicas wanted. */
  private record Target(int version, int wanted, int oldRunning) {
  }

  /**
   * Replaces a service's replicas with replicas of its registration now; call on the coordinator's virtual thread.
   *
   * @param definition the service's registration, published (its record in the service map holds its version)
   * @return the replicas running at the end
   * @throws IllegalStateException when no live node can run the new class, or a new replica cannot be placed
   *                               while old ones run (those left keep serving)
   * @throws InterruptedException  when interrupted
   */
  int roll(ServiceDefinition definition) throws InterruptedException {
    String service = definition.name();
    String type = definition.typeName();
    Target target = coordinator.locked(service, () -> start(definition, service, type));
    if (target == null) {
      PlacementRecord placed = coordinator.state().placements().get(service);
      return placed == null ? 0 : placed.running();
    }
    LOG.info("Environment '{}': rolling '{}' to version {} (class {}): {} replica(s) of older versions, {} wanted; "
      + "one at a time, each new one serving before an old one leaves", environment, service, target.version(), type,
      target.oldRunning(), target.wanted());
    Set<String> excluded = new HashSet<>();
    Set<String> stuck = new HashSet<>();
    long started = System.nanoTime();
    // Each step adds or drains a replica: a bound that a replacement of up to 256 replicas never reaches.
    for (int steps = 0; steps < 4 * NodeAgentVerticle.MAX_INSTANCES_PER_REQUEST; steps++) {
      if (!coordinator.active()) {
        throw new IllegalStateException("The environment closed while service '" + service + "' was being redeployed");
      }
      Boolean more = coordinator.locked(service, () -> step(service, target, excluded, stuck));
      if (!more) {
        break;
      }
    }
    int running = coordinator.locked(service, () -> finish(service, target));
    LOG.info("Environment '{}': rolled '{}' to version {} in {} ms: {} replica(s) running", environment, service,
      target.version(), (System.nanoTime() - started) / 1_000_000, running);
    return running;
  }

  /** Under the lock: the version and count to roll to; the placement record pointed at the new class. */
  private Target start(ServiceDefinition definition, String service, String type) {
    ClusterState state = coordinator.state();
    coordinator.checkOwner(state, service);
    ServiceRecord registration = state.services().get(service);
    int version = registration == null ? 0 : registration.version();
    PlacementRecord current = state.placements().get(service);
    ServiceOptions options = definition.options();
    AutoscalePolicy policy = options.getAutoscale();
    int wanted = policy == null ? options.getInstances()
      : current == null ? policy.initialReplicas()
      : Math.max(policy.getMinReplicas(), Math.min(policy.getMaxReplicas(), current.replicas()));
    if (current == null) {
      // Nothing placed (undeployed meanwhile): placed as a deploy places it.
      coordinator.placeMissing(state.with(PlacementRecord.empty(service, type, wanted)), service);
      return null;
    }
    PlacementRecord pointed = new PlacementRecord(service, type, current.running(), current.nodes());
    if (wanted > 0) {
      PlacementRecord probe = new PlacementRecord(service, type, 1, Map.of());
      PlacementPlan plan = Placement.plan(state.with(probe), service, Set.of(), Set.of());
      if (plan.add().isEmpty()) {
        throw new IllegalStateException("Cannot redeploy service '" + service + "': " + plan.problem()
          + "; its " + current.running() + " replica(s) keep running");
      }
    }
    coordinator.rewrite(pointed);
    return new Target(version, wanted, current.running());
  }

  /** Under the lock: one step; {@return whether another may follow} */
  private boolean step(String service, Target target, Set<String> excluded, Set<String> stuck) {
    ClusterState state = coordinator.state();
    PlacementRecord record = state.placements().get(service);
    if (record == null) {
      LOG.info("Environment '{}': service '{}' was undeployed while it was being redeployed", environment, service);
      return false;
    }
    Map<String, JsonObject> listed = list(state.liveNodes().keySet());
    Map<String, Integer> fresh = new TreeMap<>();
    Map<String, Integer> outdated = new TreeMap<>();
    count(listed, service, target.version(), fresh, outdated);
    outdated.keySet().removeAll(stuck);
    Rolling.Step step = Rolling.next(state, service, target.wanted(), fresh, outdated, excluded);
    if (step == null) {
      return false;
    }
    if (step.problem() != null) {
      throw new IllegalStateException("Cannot place a replica of version " + target.version() + " of service '"
        + service + "': " + step.problem() + "; replicas running: new " + fresh + ", old " + outdated);
    }
    int freshCount = fresh.values().stream().mapToInt(Integer::intValue).sum();
    if (step.add() != null) {
      try {
        vertx.eventBus().request(NodeAgentVerticle.address(environment, step.add()),
          NodeAgentVerticle.deployRequest(service, 1, target.version()),
          new DeliveryOptions().setSendTimeout(Coordinator.AGENT_TIMEOUT_MS)).await();
        freshCount++;
        LOG.info("Environment '{}': rolling '{}': a replica of version {} serves on node {} ({} of {})", environment,
          service, target.version(), step.add(), freshCount, target.wanted());
      } catch (RuntimeException e) {
        LOG.warn("Environment '{}': rolling '{}': node {} could not deploy a replica of version {}; trying another "
          + "node", environment, service, step.add(), target.version(), e);
        excluded.add(step.add());
        rewrite(service, record, state, list(state.liveNodes().keySet()));
        return true; // nothing drained: the next step places the new replica elsewhere, or says why it cannot
      }
    }
    if (step.drain() != null) {
      try {
        JsonObject reply = vertx.eventBus().<JsonObject>request(NodeAgentVerticle.address(environment, step.drain()),
            NodeAgentVerticle.undeployOutdatedRequest(service, 1, target.version()),
            new DeliveryOptions().setSendTimeout(Coordinator.AGENT_TIMEOUT_MS)).await().body();
        int left = outdated.values().stream().mapToInt(Integer::intValue).sum() - reply.getInteger("undeployed", 0);
        LOG.info("Environment '{}': rolling '{}': a replica of an older version left node {} ({} older left)",
          environment, service, step.drain(), left);
      } catch (RuntimeException e) {
        LOG.warn("Environment '{}': rolling '{}': draining an old replica on node {} failed; reconciliation sees to "
          + "what runs there", environment, service, step.drain(), e);
        stuck.add(step.drain());
      }
    }
    rewrite(service, record, state, list(state.liveNodes().keySet()));
    return true;
  }

  /** Under the lock: the wanted count placed or trimmed, as a deploy and autoscaling would; {@return the replicas running} */
  private int finish(String service, Target target) {
    ClusterState state = coordinator.state();
    PlacementRecord record = state.placements().get(service);
    if (record == null) {
      return 0;
    }
    Map<String, JsonObject> listed = list(state.liveNodes().keySet());
    PlacementRecord running = counted(service, record, state, listed).wanting(record.type(), target.wanted());
    if (running.running() > target.wanted()) {
      Autoscaler.Shrink shrink = Autoscaler.shrink(state.with(running), service, target.wanted());
      PlacementRecord after = shrink.after();
      for (Map.Entry<String, Integer> drain : shrink.drain().entrySet()) {
        try {
          vertx.eventBus().request(NodeAgentVerticle.address(environment, drain.getKey()),
            NodeAgentVerticle.undeployRequest(service, drain.getValue()),
            new DeliveryOptions().setSendTimeout(Coordinator.AGENT_TIMEOUT_MS)).await();
        } catch (RuntimeException e) {
          LOG.warn("Environment '{}': draining {} replica(s) of '{}' on node {} failed", environment, drain.getValue(),
            service, drain.getKey(), e);
          after = after.plus(drain.getKey(), drain.getValue());
        }
      }
      coordinator.rewrite(after);
      coordinator.counted(service, after.running());
      return after.running();
    }
    coordinator.rewrite(running);
    coordinator.placeMissing(state.with(running), service);
    PlacementRecord placed = coordinator.state().placements().get(service);
    return placed == null ? 0 : placed.running();
  }

  /** Writes the placement record to what runs, wanting what runs (so that nobody fills or trims it mid-roll). */
  private void rewrite(String service, PlacementRecord record, ClusterState state, Map<String, JsonObject> listed) {
    PlacementRecord counted = counted(service, record, state, listed);
    PlacementRecord now = counted.wanting(record.type(), counted.running());
    coordinator.rewrite(now);
    coordinator.counted(service, now.running());
  }

  /** {@return the record with, per live node, what its agent runs (what the record said when it did not answer)} */
  private static PlacementRecord counted(String service, PlacementRecord record, ClusterState state,
                                         Map<String, JsonObject> listed) {
    Map<String, Integer> counts = new TreeMap<>();
    for (String node : state.liveNodes().keySet()) {
      JsonObject answer = listed.get(node);
      int n = answer == null ? record.on(node)
        : answer.getJsonObject("services", new JsonObject()).getInteger(service, 0);
      if (n > 0) {
        counts.put(node, n);
      }
    }
    return new PlacementRecord(service, record.type(), record.replicas(), counts);
  }

  /** Splits what the agents run of a service into the version rolled to and the others, per node. */
  private static void count(Map<String, JsonObject> listed, String service, int version, Map<String, Integer> fresh,
                            Map<String, Integer> outdated) {
    listed.forEach((node, answer) -> {
      JsonObject versions = answer.getJsonObject("versions", new JsonObject()).getJsonObject(service);
      if (versions == null) {
        return;
      }
      for (String v : versions.fieldNames()) {
        int n = versions.getInteger(v, 0);
        if (n > 0) {
          (String.valueOf(version).equals(v) ? fresh : outdated).merge(node, n, Integer::sum);
        }
      }
    });
  }

  /** {@return what each agent that answered runs: node id to its whole answer} */
  private Map<String, JsonObject> list(Set<String> liveNodes) {
    Map<String, Future<Message<JsonObject>>> asked = new LinkedHashMap<>();
    for (String node : liveNodes) {
      asked.put(node, vertx.eventBus().request(NodeAgentVerticle.address(environment, node),
        NodeAgentVerticle.listRequest(), new DeliveryOptions().setSendTimeout(LIST_TIMEOUT_MS)));
    }
    Map<String, JsonObject> out = new TreeMap<>();
    asked.forEach((node, reply) -> {
      try {
        out.put(node, reply.await().body());
      } catch (RuntimeException e) {
        LOG.debug("Environment '{}': node {} did not say what it runs: {}", environment, node, e.toString());
      }
    });
    return out;
  }
}
