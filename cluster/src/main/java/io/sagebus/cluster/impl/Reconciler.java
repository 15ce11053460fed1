package io.sagebus.cluster.impl;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.sagebus.cluster.NodeAgentVerticle;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Keeps an environment's records and the replicas really running in agreement, whatever happened to the cluster:
 * a partition healed by Hazelcast's split-brain merge (whose map merge keeps one side's entries and resurrects
 * entries the other side had removed), a node frozen long enough to be dropped, a registering client gone. Runs in
 * every JVM with a {@link Coordinator}, on the coordinator's virtual-thread context, after every membership change,
 * after a merge, and every {@link #PERIOD_MS} ms:
 * <ul>
 *   <li>Every JVM keeps its event-bus address in Vert.x's node information map (a late view of a merge may have
 *       removed it), so that the others can answer it.</li>
 *   <li>Every JVM that runs a node keeps that node's record in the node map, naming its current member id: a node
 *       dropped while frozen or cut off (its record removed by the oldest member), or one that comes back from a
 *       merge under a new member id, publishes its record again, so it is listed and offered to placement.</li>
 *   <li>Every JVM keeps its own registrations in the service map the same way: a registering JVM that was frozen or
 *       cut off comes back under a new member id, and the others may have taken its registrations for a dead
 *       member's, removed them and drained their replicas; it publishes them again under its new id and places
 *       again what it had placed, keeping the replicas that still run for it
 *       ({@link Coordinator#placeAgainIfLost}). A name another live member registered meanwhile is left to it
 *       (logged).</li>
 *   <li>The oldest member removes the records of nodes whose member is gone and the registrations of members that
 *       are gone, asks every live node's agent what it runs, and for each service whose records disagree
 *       ({@link Reconciliation}) takes the service's lock, asks again, drains the surplus or what runs for a dead
 *       registration, writes the corrected record and places what is missing. When several coordinators of one
 *       environment share a Vertx (a node's agent and the node's own environment), one of them does this part.</li>
 * </ul>
 * The first three run apart from the last, so that a long reconciliation never holds up a record this JVM must
 * publish; a pass waits at most {@link #LOCK_WAIT_MS} for a lock another member holds and leaves that record to the
 * next pass. Locks are taken through {@link MapLocks}, which a merge cannot leave held.
 */
final class Reconciler {

  private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
  /** How often a pass runs without a membership change: the longest records and replicas disagree unnoticed. */
  static final long PERIOD_MS = 2_000;
  /** How long an agent may take to say what it runs; one that does not answer keeps what its records say. */
  static final long LIST_TIMEOUT_MS = 5_000;
  /**
   * How long a pass waits for a lock that another member holds (a deploy, a drain, an autoscaling step): the pass
   * leaves that record alone and the next one tries again.
   */
  private static final long LOCK_WAIT_MS = 5_000;
  /** Local map naming the one coordinator of each environment in a Vertx that does the oldest member's part. */
  private static final String RECONCILERS = "sagebus.reconcilers";
  /** Local map naming the one coordinator in a Vertx that keeps its node information published. */
  private static final String NODE_INFO_KEEPERS = "sagebus.nodeinfo";

  private final Coordinator coordinator;
  private final Vertx vertx;
  private final Context context;
  private final String environment;
  private final IMap<String, String> services;
  private final IMap<String, String> nodes;
  /** This JVM's own records kept: quick, and never behind a long reconciliation. */
  private final Lane ownLane = new Lane("keeping this member's records", this::keepOwn);
  /** The oldest member's part. */
  private final Lane oldestLane = new Lane("a reconciliation pass", this::reconcileIfOldest);
  /** This JVM's node once its agent joined, as last published; {@code null} when it runs none or left. */
  private volatile NodeRecord own;
  /** The member last reported to hold this node's id, so the conflict is logged once. */
  private volatile String conflictReported;
  /** This JVM's registrations as it published them, by service name. */
  private final Map<String, ServiceRecord> registrations = new ConcurrentHashMap<>();
  /** Per service name, the member last reported to hold a registration of this JVM, so the conflict is logged once. */
  private final Map<String, String> registrationConflicts = new ConcurrentHashMap<>();
  private long timer = -1;
  private volatile boolean stopped;

  Reconciler(Coordinator coordinator, Vertx vertx, Context context, String environment, HazelcastInstance hazelcast) {
    this.coordinator = coordinator;
    this.vertx = vertx;
    this.context = context;
    this.environment = environment;
    this.services = hazelcast.getMap(Coordinator.mapName(environment, "services"));
    this.nodes = hazelcast.getMap(Coordinator.mapName(environment, "nodes"));
  }

  /** Starts the periodic passes; call on the coordinator's context. */
  void start() {
    timer = vertx.setPeriodic(PERIOD_MS, id -> soon());
  }

  /** Stops the passes; one under way ends at its next step. */
  void stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    vertx.sharedData().<String, String>getLocalMap(RECONCILERS).removeIfPresent(environment, context.deploymentID());
    vertx.sharedData().<String, String>getLocalMap(NODE_INFO_KEEPERS).removeIfPresent("keeper", context.deploymentID());
  }

  /** This JVM published a registration: keep it published under this JVM's member id. */
  void ownRegistration(ServiceRecord registration) {
    registrations.put(registration.name(), registration);
  }

  /** This JVM withdraws a registration: it is no longer kept. */
  void disownRegistration(String service) {
    registrations.remove(service);
    registrationConflicts.remove(service);
  }

  /** This JVM's node has published its record: keep it published. */
  void own(NodeRecord record) {
    own = record;
  }

  /** This JVM's node leaves: its record is no longer kept. */
  void disown(String node) {
    NodeRecord mine = own;
    if (mine != null && mine.node().equals(node)) {
      own = null;
    }
  }

  /** {@return whether a node id is this JVM's own node, whose record this reconciler keeps} */
  boolean owns(String node) {
    NodeRecord mine = own;
    return mine != null && mine.node().equals(node);
  }

  /**
   * Asks for a pass now, from any thread. Passes never overlap: one asked for during a pass runs right after it.
   * This JVM's own records and the oldest member's part run apart, so that the first is never held up by the second.
   */
  void soon() {
    ownLane.soon();
    oldestLane.soon();
  }

  /** A pass of one kind. */
  private interface Pass {
    void run() throws InterruptedException;
  }

  /** Passes of one kind, one after another on the coordinator's context, never two at once. */
  private final class Lane {
    private final String what;
    private final Pass pass;
    private final AtomicBoolean passing = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();

    Lane(String what, Pass pass) {
      this.what = what;
      this.pass = pass;
    }

    void soon() {
      if (stopped) {
        return;
      }
      if (!passing.compareAndSet(false, true)) {
        again.set(true);
        return;
      }
      context.executeBlocking(() -> {
        do {
          again.set(false);
          if (!stopped && coordinator.active()) {
            pass.run();
          }
        } while (again.get() && !stopped);
        return null;
      }, false).onComplete(ar -> {
        passing.set(false);
        if (ar.failed() && !stopped) {
          LOG.warn("Environment '{}': {} failed", environment, what, ar.cause());
        }
        if (again.get() && !stopped) {
          soon(); // asked for after the loop's last check
        }
      });
    }
  }

  private void keepOwn() throws InterruptedException {
    keepOwnNodeInfo();
    keepOwnRecord();
    keepOwnRegistrations();
  }

  /**
   * Publishes this JVM's event-bus address (Vert.x's node information) again when the cluster's map lost it. Vert.x
   * keys it by a node id that a merge does not change, and every member that sees a member leave removes that
   * member's entry: a member that processes the leave late, after this JVM came back from a partition and published
   * its entry again, removes it for good, and then no other member that was not connected to this one already can
   * answer its requests ("Not a member of the cluster"). Seen in {@code ClusterHealIT} on a loaded machine. One
   * coordinator per Vertx does it.
   */
  private void keepOwnNodeInfo() {
    ClusterManager cluster = ((VertxInternal) vertx).clusterManager();
    String mine = context.deploymentID();
    String holder = vertx.sharedData().<String, String>getLocalMap(NODE_INFO_KEEPERS).putIfAbsent("keeper", mine);
    if (cluster == null || (holder != null && !holder.equals(mine))) {
      return;
    }
    NodeInfo info = cluster.getNodeInfo();
    if (info == null) {
      return;
    }
    Promise<NodeInfo> published = Promise.promise();
    cluster.getNodeInfo(cluster.getNodeId(), published);
    try {
      published.future().await();
    } catch (RuntimeException missing) {
      Promise<Void> put = Promise.promise();
      cluster.setNodeInfo(info, put);
      put.future().await();
      LOG.warn("Environment '{}': this member's event-bus address (Vert.x node {}, {}:{}) was missing from the "
          + "cluster's node information ({}); published it again", environment, cluster.getNodeId(), info.host(),
        info.port(), missing.getMessage());
    }
  }

  private void reconcileIfOldest() throws InterruptedException {
    if (coordinator.oldest() && decides()) {
      reconcileAll();
    }
  }

  /** {@return whether this reconciler is the one of its environment in this Vertx that does the oldest's part} */
  private boolean decides() {
    String mine = context.deploymentID();
    String holder = vertx.sharedData().<String, String>getLocalMap(RECONCILERS).putIfAbsent(environment, mine);
    return holder == null || holder.equals(mine);
  }

  /**
   * Publishes this JVM's registrations again where the service map lost them or names a member id this JVM no longer
   * has, and places again what this JVM placed and the cluster lost: each under the service's placement lock.
   */
  private void keepOwnRegistrations() throws InterruptedException {
    if (registrations.isEmpty()) {
      return;
    }
    String me = coordinator.member();
    Set<String> members = coordinator.memberIds();
    for (String service : registrations.keySet()) {
      if (stopped) {
        return;
      }
      ServiceRecord current = Coordinator.parse(environment, services, service, services.get(service),
        ServiceRecord::fromJson);
      boolean ours = current != null && current.member().equals(me);
      if (!ours && current != null && members.contains(current.member())) {
        reportConflict(service, current);
        continue;
      }
      if (ours && !coordinator.mayHaveLostPlacement(service)) {
        continue;
      }
      coordinator.tryLocked(service, LOCK_WAIT_MS, () -> {
        ServiceRecord mine = registrations.get(service);
        ServiceRecord now = Coordinator.parse(environment, services, service, services.get(service),
          ServiceRecord::fromJson);
        if (mine == null || stopped) {
          return; // withdrawn meanwhile
        }
        if (now != null && !now.member().equals(me) && coordinator.memberIds().contains(now.member())) {
          reportConflict(service, now);
          return;
        }
        if (now == null || !now.member().equals(me)) {
          // From its JSON form, so that whatever else the registration holds is published as it was.
          ServiceRecord republished = ServiceRecord.fromJson(mine.toJson().put("member", me));
          services.set(service, republished.toJson().encode());
          registrations.put(service, republished);
          registrationConflicts.remove(service);
          LOG.warn("Environment '{}': published the registration of '{}' again as member {}: the cluster {} (a "
              + "partition or a freeze cut this member off; after Hazelcast's merge it is a member again, under a new "
              + "member id)", environment, service, me,
            now == null ? "had no record of it" : "had it as registered by member " + now.member());
        }
        if (coordinator.mayHaveLostPlacement(service)) {
          Map<String, JsonObject> listed = list(coordinator.state().liveNodes().keySet());
          coordinator.placeAgainIfLost(service, running(listed, service));
        }
      });
    }
  }

  private void reportConflict(String service, ServiceRecord other) {
    if (!other.member().equals(registrationConflicts.put(service, other.member()))) {
      LOG.error("Environment '{}': service '{}' is registered by another live member ({}, class {}) since this "
          + "member ({}) was cut off from the cluster; this member no longer places it. Close one of the two "
          + "registrations", environment, service, other.member(), other.type(), coordinator.member());
    }
  }

  /** Publishes this JVM's node record again when the map lost it or it names a member id this JVM no longer has. */
  private void keepOwnRecord() throws InterruptedException {
    NodeRecord mine = own;
    if (mine == null) {
      return;
    }
    String me = coordinator.member();
    NodeRecord current = Coordinator.parse(environment, nodes, mine.node(), nodes.get(mine.node()), NodeRecord::fromJson);
    if (current != null && current.member().equals(me)) {
      return;
    }
    if (!MapLocks.lock(nodes, mine.node(), LOCK_WAIT_MS)) {
      return; // the next pass tries again
    }
    try {
      current = Coordinator.parse(environment, nodes, mine.node(), nodes.get(mine.node()), NodeRecord::fromJson);
      if (current != null && current.member().equals(me)) {
        return;
      }
      if (current != null && coordinator.memberIds().contains(current.member())) {
        if (!current.member().equals(conflictReported)) {
          conflictReported = current.member();
          LOG.error("Environment '{}': node id {} is held by another live member ({}, host {}, pid {}) since this "
              + "node was cut off from the cluster; this node ({} member {}) is not offered to placement. Stop one "
              + "of them", environment, mine.node(), current.member(), current.host(), current.pid(), mine.node(), me);
        }
        return;
      }
      NodeRecord republished = new NodeRecord(mine.node(), me, mine.host(), mine.services(), mine.joined(),
        mine.pid(), mine.java(), mine.processors());
      nodes.set(mine.node(), republished.toJson().encode());
      own = republished;
      conflictReported = null;
      LOG.warn("Environment '{}': node {} published its record again as member {}: the cluster {} (a partition or a "
          + "freeze dropped this node; after Hazelcast's merge it is a member again, under a new member id)",
        environment, mine.node(), me, current == null ? "had no record of it" : "had it as member " + current.member());
    } finally {
      MapLocks.unlock(nodes, mine.node(), me, coordinator::member);
    }
  }

  /** The oldest member's part: dead records removed, every service's records checked against its agents. */
  private void reconcileAll() throws InterruptedException {
    ClusterState state = coordinator.state();
    NodeRecord mine = own;
    for (String node : Placement.deadNodes(state)) {
      if (mine != null && mine.node().equals(node)) {
        continue; // this JVM's own node under its old member id: keepOwnRecord publishes it again
      }
      NodeRecord record = state.nodes().get(node);
      if (coordinator.removeDeadNode(node, record.member())) {
        LOG.warn("Environment '{}': node {} is no longer in the cluster without having left: its member {} is gone "
          + "(this member {} sees {} members); removed its record", environment, node, record.member(),
          coordinator.member(), state.members().size());
      }
    }
    Map<String, JsonObject> listed = list(state.liveNodes().keySet());
    Set<String> names = new TreeSet<>(state.placements().keySet());
    state.services().forEach((name, registration) -> {
      if (!state.members().contains(registration.member())) {
        names.add(name);
      }
    });
    listed.values().forEach(running -> running.forEach(e -> {
      if (e.getValue() instanceof Integer n && n > 0) {
        names.add(e.getKey());
      }
    }));
    for (String service : names) {
      if (stopped) {
        return;
      }
      if (needsFix(state, service, listed)) {
        try {
          fix(service);
        } catch (RuntimeException e) {
          LOG.warn("Environment '{}': reconciling '{}' failed", environment, service, e);
        }
      }
    }
  }

  private static boolean needsFix(ClusterState state, String service, Map<String, JsonObject> listed) {
    ServiceRecord registration = state.services().get(service);
    if (registration != null && !state.members().contains(registration.member())) {
      return true;
    }
    Reconciliation r = Reconciliation.of(state, service, running(listed, service), listed.keySet());
    if (!r.agrees()) {
      return true;
    }
    return r.corrected() != null
      && Placement.plan(state.with(r.corrected()), service, Set.of(), Set.of()).added() > 0;
  }

  /**
   * Under the service's lock (left to the next pass when it stays busy): what runs asked again, the surplus drained,
   * the record corrected, the deficit placed.
   */
  private void fix(String service) throws InterruptedException {
    coordinator.tryLocked(service, LOCK_WAIT_MS, () -> {
      ClusterState state = coordinator.state();
      Map<String, JsonObject> listed = list(state.liveNodes().keySet());
      Reconciliation r = Reconciliation.of(state, service, running(listed, service), listed.keySet());
      int drained = 0;
      for (Map.Entry<String, Integer> step : r.drain().entrySet()) {
        if (coordinator.merged()) {
          return; // decided from the records of a part of the cluster: the next pass decides again
        }
        try {
          JsonObject reply = vertx.eventBus().<JsonObject>request(NodeAgentVerticle.address(environment, step.getKey()),
              NodeAgentVerticle.undeployRequest(service, step.getValue()),
              new DeliveryOptions().setSendTimeout(Coordinator.AGENT_TIMEOUT_MS))
            .await().body();
          drained += reply.getInteger("undeployed", 0);
        } catch (RuntimeException e) {
          LOG.warn("Environment '{}': draining {} replica(s) of '{}' on node {} failed", environment, step.getValue(),
            service, step.getKey(), e);
        }
      }
      ServiceRecord registration = state.services().get(service);
      if (registration != null && !state.members().contains(registration.member())
        && !coordinator.memberIds().contains(registration.member())) {
        // Only while it still names the member that is gone: a live one may have registered the name since.
        String raw = services.get(service);
        ServiceRecord current = Coordinator.parse(environment, services, service, raw, ServiceRecord::fromJson);
        if (current != null && current.member().equals(registration.member())) {
          services.remove(service, raw);
        }
      }
      if (r.corrected() == null) {
        if (r.before() != null) {
          coordinator.forget(service);
        }
      } else if (!r.corrected().equals(r.before())) {
        coordinator.rewrite(r.corrected());
      }
      if (!r.agrees() || r.dead()) {
        LOG.warn("Environment '{}': reconciled '{}' with what the nodes run {}: record {} -> {}, {} replica(s) drained{}",
          environment, service, runningText(listed, service), r.before() == null ? "none" : r.before().nodes(),
          r.corrected() == null ? "none" : r.corrected().nodes(), drained,
          r.dead() ? " (its registration is gone, or its registering member is)" : "");
      }
      if (r.corrected() != null) {
        coordinator.placeMissing(state.with(r.corrected()), service);
      }
    });
  }

  /** {@return what each agent that answered runs: node id to {service: replicas}} */
  private Map<String, JsonObject> list(Set<String> liveNodes) {
    Map<String, Future<Message<JsonObject>>> asked = new LinkedHashMap<>();
    for (String node : liveNodes) {
      asked.put(node, vertx.eventBus().request(NodeAgentVerticle.address(environment, node),
        NodeAgentVerticle.listRequest(), new DeliveryOptions().setSendTimeout(LIST_TIMEOUT_MS)));
    }
    Map<String, JsonObject> out = new HashMap<>();
    asked.forEach((node, reply) -> {
      try {
        JsonObject running = reply.await().body().getJsonObject("services");
        if (running != null) {
          out.put(node, running);
        }
      } catch (RuntimeException e) {
        LOG.debug("Environment '{}': node {} did not say what it runs: {}", environment, node, e.toString());
      }
    });
    return out;
  }

  private static Map<String, Integer> running(Map<String, JsonObject> listed, String service) {
    Map<String, Integer> running = new HashMap<>();
    listed.forEach((node, services) -> {
      if (services.getValue(service) instanceof Integer n && n > 0) {
        running.put(node, n);
      }
    });
    return running;
  }

  private static String runningText(Map<String, JsonObject> listed, String service) {
    return new java.util.TreeMap<>(running(listed, service)).toString();
  }
}
