package io.sagebus.cluster.impl;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import io.sagebus.cluster.NodeAgentVerticle;
import io.sagebus.cluster.SagebusCluster;
import io.sagebus.impl.registry.ServiceDefinition;
import io.sagebus.spi.ServiceDirectory;
import io.sagebus.spi.ServicePlacement;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The cluster side of one environment in one JVM: its records in Hazelcast maps (registered
 * services, live nodes, placements, jobs), the placement of service replicas on node agents,
 * and their re-placement when a node dies or leaves.
 * <p>
 * Every placement change of a service runs under that service's lock in the placements map, so
 * that two JVMs placing at once never both fill the same deficit: a record holds the wanted
 * replica count and the replicas per node, and a change only ever places the difference between
 * the wanted count and the replicas on live nodes. What to add where, and what to drain, is decided
 * by {@link Placement} from the records read under the lock ({@link ClusterState}); this class reads
 * the maps, asks it, and carries the plan out. Runs as a virtual-thread verticle: the
 * Hazelcast calls and lock are blocking, and they run in {@code executeBlocking} on its
 * virtual-thread context.
 */
public final class Coordinator extends VerticleBase implements ServicePlacement, ServiceDirectory {

  private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);
  /** How long a deploy or undeploy request to a node agent may take (replica setup code may block). */
  static final long AGENT_TIMEOUT_MS = 120_000;
  private static final long LOCK_WAIT_S = 120;

  private final String environment;
  private final Map<String, Integer> placedCounts = new ConcurrentHashMap<>();
  /** The publication of each registration of this JVM: placing a service waits for it, and fails with it. */
  private final Map<String, Future<Void>> publications = new ConcurrentHashMap<>();
  /** The services this JVM placed and has not undeployed: what the reconciler places again if the cluster lost them. */
  private final Map<String, ServiceDefinition> deployed = new ConcurrentHashMap<>();
  /**
   * The member id this thread took a service's lock as. A merge gives this JVM a new id: what it decided before, from
   * the records of the part it was in, is not written into the merged cluster's records (see {@link #merged()}).
   */
  private final ThreadLocal<String> lockedAs = new ThreadLocal<>();
  private HazelcastInstance hazelcast;
  private IMap<String, String> services;
  private IMap<String, String> nodes;
  private IMap<String, String> placements;
  private IMap<String, String> jobs;
  private IMap<String, String> loads;
  private IMap<String, String> demand;
  private final Map<String, Long> demandSent = new ConcurrentHashMap<>();
  private AutoscaleLoop autoscaling;
  private long autoscaleTimer = -1;
  private UUID listenerId;
  private UUID lifecycleListenerId;
  private Reconciler reconciler;
  private Roller roller;
  private volatile boolean stopped;

  /**
   * A coordinator for an environment; deploy it with {@code ThreadingModel.VIRTUAL_THREAD}.
   *
   * @param environment the environment name
   */
  public Coordinator(String environment) {
    this.environment = ServiceDefinition.checkName("environment", environment);
  }

  /**
   * {@return the name of one of the environment's Hazelcast maps}
   *
   * @param environment the environment
   * @param kind        {@code services}, {@code nodes}, {@code placements}, {@code jobs}, {@code load} (each
   *                    node's replicas' calls in flight) or {@code demand} (services a call found no replica of)
   */
  public static String mapName(String environment, String kind) {
    return "sagebus." + environment + "." + kind;
  }

  @Override
  public Future<?> start() {
    hazelcast = SagebusCluster.hazelcast(vertx);
    services = hazelcast.getMap(mapName(environment, "services"));
    nodes = hazelcast.getMap(mapName(environment, "nodes"));
    placements = hazelcast.getMap(mapName(environment, "placements"));
    jobs = hazelcast.getMap(mapName(environment, "jobs"));
    loads = hazelcast.getMap(mapName(environment, "load"));
    demand = hazelcast.getMap(mapName(environment, "demand"));
    listenerId = hazelcast.getCluster().addMembershipListener(new Listener());
    reconciler = new Reconciler(this, vertx, context, environment, hazelcast);
    roller = new Roller(this, vertx, environment);
    // After a split-brain merge this JVM may be a member again under a new id, and the maps hold what both sides
    // kept: reconcile at once rather than at the next periodic pass.
    lifecycleListenerId = hazelcast.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
        LOG.info("Environment '{}': this member merged back into its cluster as member {}; reconciling", environment,
          member());
        reconciler.soon();
      }
    });
    reconciler.start();
    autoscaling = new AutoscaleLoop(environment, new Scaling());
    scheduleAutoscaling();
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    reconciler.stop();
    vertx.cancelTimer(autoscaleTimer);
    vertx.sharedData().<String, String>getLocalMap(AUTOSCALERS).removeIfPresent(environment, context.deploymentID());
    try {
      hazelcast.getLifecycleService().removeLifecycleListener(lifecycleListenerId);
      hazelcast.getCluster().removeMembershipListener(listenerId);
    } catch (HazelcastInstanceNotActiveException e) {
      LOG.debug("Environment '{}': Hazelcast stopped before the coordinator", environment);
    }
    return Future.succeededFuture();
  }

  private <T> Future<T> blocking(Callable<T> work) {
    return context.executeBlocking(work, false);
  }

  // ---------------------------------------------------------------- records

  /**
   * Publishes a registration, so that every JVM of the cluster knows the service exists.
   *
   * @param definition the registration
   * @param local      whether its instances run in the registering JVM (a supplier)
   * @return completion; fails with {@link IllegalStateException} when another live member of the
   *         cluster registered a service of that name in the environment (one registering JVM per
   *         service name: it owns the replicas, and its close undeploys them)
   */
  public Future<Void> publish(ServiceDefinition definition, boolean local) {
    String me = member();
    Future<Void> previousPublication = publications.getOrDefault(definition.name(), Future.succeededFuture());
    // After the one before (a redeploy right after a registration): versions go up in the order of the calls.
    Future<Void> published = previousPublication.transform(ignored -> blocking(() -> {
      String previous = services.get(definition.name());
      ServiceRecord before = previous == null ? null : parse(services, definition.name(), previous,
        ServiceRecord::fromJson);
      Optional<ServiceRecord> other = Placement.otherOwner(before, me, memberIds());
      if (other.isPresent()) {
        throw new IllegalStateException("Service '" + definition.name() + "' is already registered in environment '"
          + environment + "' by another member of the cluster (" + other.get().member() + ", class "
          + other.get().type() + "): one JVM registers a service; call it from here without registering it, or "
          + "choose another name");
      }
      // Ours (a redeploy), or left by a member that is gone: one version more, so that its replicas tell apart.
      int version = before == null ? 1 : before.version() + 1;
      ServiceRecord registration = new ServiceRecord(definition.name(), definition.typeName(), local, me,
        definition.options(), version);
      String encoded = registration.toJson().encode();
      boolean written = previous == null ? services.putIfAbsent(definition.name(), encoded) == null
        : services.replace(definition.name(), previous, encoded);
      if (!written) {
        throw new IllegalStateException("Service '" + definition.name() + "' was registered by another member of the "
          + "cluster at the same time: one JVM registers a service; call it from here without registering it, or "
          + "choose another name");
      }
      reconciler.ownRegistration(registration);
      return null;
    }));
    publications.put(definition.name(), published);
    return published;
  }

  /**
   * Removes registrations.
   *
   * @param names service names
   * @return completion
   */
  public Future<Void> unpublish(List<String> names) {
    return blocking(() -> {
      for (String name : names) {
        reconciler.disownRegistration(name);
        services.delete(name);
      }
      return null;
    });
  }

  /**
   * Records a job's state.
   *
   * @param record its state
   * @return completion
   */
  public Future<Void> recordJob(JobRecord record) {
    return Future.fromCompletionStage(jobs.setAsync(record.id(), record.toJson().encode()), context).mapEmpty();
  }

  /**
   * {@return every record of one of the environment's maps in its JSON form, sorted by key}
   * Nodes whose JVM has left the cluster are left out (the oldest member removes their records).
   *
   * @param kind {@code services}, {@code nodes}, {@code placements} or {@code jobs}
   */
  public Future<JsonArray> records(String kind) {
    return blocking(() -> {
      JsonArray out = new JsonArray();
      switch (kind) {
        case "services" -> read(services, ServiceRecord::fromJson).values().forEach(r -> out.add(r.toJson()));
        case "placements" -> read(placements, PlacementRecord::fromJson).values().forEach(r -> out.add(r.toJson()));
        case "nodes" -> {
          Set<String> members = memberIds();
          read(nodes, NodeRecord::fromJson).values().stream().filter(n -> members.contains(n.member()))
            .forEach(r -> out.add(r.toJson()));
        }
        case "jobs" -> read(jobs, JobRecord::fromJson).values().forEach(r -> out.add(r.toJson()));
        default -> throw new IllegalArgumentException("No map " + kind);
      }
      return out;
    });
  }

  /**
   * {@return the Hazelcast member id of this JVM}
   */
  public String member() {
    return hazelcast.getCluster().getLocalMember().getUuid().toString();
  }

  @Override
  public Future<Boolean> isRegistered(String service) {
    if (stopped) {
      return Future.succeededFuture(false);
    }
    return Future.fromCompletionStage(services.getAsync(service), context).map(record -> record != null);
  }

  // ---------------------------------------------------------------- placement

  @Override
  public boolean places(ServiceDefinition definition) {
    // Only a class can be matched with the nodes' catalogues; a supplier or factory runs in its own JVM.
    return definition.origin() instanceof ServiceDefinition.OfClass;
  }

  @Override
  public Future<Integer> deploy(ServiceDefinition definition) {
    String service = definition.name();
    String type = definition.typeName();
    // An autoscaled service starts at its policy's initial count (0 allowed: the first call asks for one).
    int replicas = definition.options().getAutoscale() == null ? definition.options().getInstances()
      : definition.options().getAutoscale().initialReplicas();
    Future<Void> published = publications.getOrDefault(service, Future.succeededFuture());
    return published.compose(v -> blocking(() -> locked(service, () -> {
      ClusterState state = state();
      checkOwner(state, service);
      Outcome outcome = carryOut(Placement.want(state, service, type, replicas), service, Set.of(), Set.of());
      if (replicas > 0 && outcome.placed() != null && outcome.placed().running() == 0) {
        throw new IllegalStateException("Cannot place service '" + service + "': " + outcome.why());
      }
      if (outcome.placed() != null && outcome.placed().running() < replicas) {
        LOG.warn("Environment '{}': only {} of {} replicas of '{}' are placed: {}", environment,
          outcome.placed().running(), replicas, service, outcome.why());
      }
      // Against the record stored, not the one wanted: a new record of 0 replicas (autoscaled) is written too.
      write(new Outcome(service, state.placements().get(service), outcome.placed(), outcome.undeployed(),
        outcome.why()));
      deployed.put(service, definition);
      return outcome.placed() == null ? 0 : outcome.placed().running();
    })));
  }

  /** {@return whether this JVM placed a service, has not undeployed it, and the cluster holds no placement of it} */
  boolean mayHaveLostPlacement(String service) {
    return deployed.containsKey(service) && !placements.containsKey(service);
  }

  /**
   * Under the service's lock: places again a service this JVM placed and has not undeployed, when the cluster has no
   * placement record of it any more (while this JVM was cut off, the others took it for gone). The replicas that still
   * run for it on live nodes able to run it are kept and counted; only what they lack is placed (a surplus is the
   * reconciliation's to drain).
   *
   * @param service a service name
   * @param running the replicas of the service that the live nodes' agents said they run, by node id
   * @return whether it wrote a placement record
   */
  boolean placeAgainIfLost(String service, Map<String, Integer> running) {
    ServiceDefinition definition = deployed.get(service);
    ClusterState state = state();
    if (definition == null || state.placements().containsKey(service)) {
      return false;
    }
    int replicas = definition.options().getAutoscale() == null ? definition.options().getInstances()
      : definition.options().getAutoscale().initialReplicas();
    Map<String, NodeRecord> live = state.liveNodes();
    Map<String, Integer> kept = new TreeMap<>();
    running.forEach((node, n) -> {
      NodeRecord record = live.get(node);
      if (n > 0 && record != null && record.offers(service, definition.typeName())) {
        kept.put(node, n);
      }
    });
    LOG.warn("Environment '{}': the cluster lost the placement of '{}', which this member registered and placed: "
      + "placing it again, {} replica(s) wanted, those still running kept {}", environment, service, replicas, kept);
    PlacementRecord adopted = new PlacementRecord(service, definition.typeName(), replicas, kept);
    Outcome outcome = carryOut(state.with(adopted), service, Set.of(), Set.of());
    write(new Outcome(service, null, outcome.placed(), outcome.undeployed(), outcome.why()));
    return true;
  }

  @Override
  public Future<Integer> redeploy(ServiceDefinition definition) {
    Future<Void> published = publications.getOrDefault(definition.name(), Future.succeededFuture());
    return published.compose(v -> blocking(() -> roller.roll(definition)))
      .onSuccess(running -> deployed.computeIfPresent(definition.name(), (name, before) -> definition));
  }

  /**
   * Throws when another live member registered the service: it places and undeploys its replicas.
   *
   * @param state   the cluster's records
   * @param service a service name
   */
  void checkOwner(ClusterState state, String service) {
    Optional<ServiceRecord> owner = Placement.otherOwner(state, service, member());
    if (owner.isPresent()) {
      throw new IllegalStateException("Service '" + service + "' of environment '" + environment + "' is registered "
        + "by another member of the cluster (" + owner.get().member() + "), which places and undeploys its replicas");
    }
  }

  /** Remembers how many replicas of a service run, as far as this JVM knows ({@link #placed(String)}). */
  void counted(String service, int running) {
    placedCounts.put(service, running);
  }

  @Override
  public Future<Integer> undeploy(String service) {
    deployed.remove(service);
    return blocking(() -> {
      Optional<ServiceRecord> owner = Placement.otherOwner(readOne(services, service, ServiceRecord::fromJson), member(),
        memberIds());
      if (owner.isPresent()) {
        LOG.info("Environment '{}': not undeploying '{}': member {} registered it", environment, service,
          owner.get().member());
        return 0;
      }
      return unplace(service);
    });
  }

  /** Undeploys the replicas of a service from the live nodes and forgets its placement. */
  private int unplace(String service) throws InterruptedException {
    return locked(service, () -> {
      ClusterState state = state();
      Outcome outcome = carryOut(state, Placement.undeploy(state, service), Set.of());
      write(outcome);
      return outcome.undeployed();
    });
  }

  @Override
  public String jobIdPrefix(String environment) {
    // Jobs of every member share the cluster's job map: the member's id keeps theirs apart.
    return environment + "-" + member().substring(0, 8);
  }

  @Override
  public int placed(String service) {
    return placedCounts.getOrDefault(service, 0);
  }

  /**
   * Checks that no live node of the cluster uses a node id, before this JVM's agent takes it.
   *
   * @param nodeId a node id
   * @return completion; fails with {@link NodeIdInUseException} naming the live node when another JVM of the cluster
   *         runs a node of that id
   */
  public Future<Void> checkNodeId(String nodeId) {
    return blocking(() -> {
      liveDuplicate(nodeId);
      return null;
    });
  }

  /** Throws when another live member holds the node id. */
  private void liveDuplicate(String nodeId) {
    NodeRecord existing = readOne(nodes, nodeId, NodeRecord::fromJson);
    if (existing != null && !existing.member().equals(member()) && memberIds().contains(existing.member())) {
      throw new NodeIdInUseException("node id '" + nodeId + "' is already live in cluster '"
        + hazelcast.getConfig().getClusterName() + "' (environment " + environment + "): node " + nodeId + " on "
        + existing.host() + ", pid " + existing.pid() + ", member " + existing.member()
        + "; give this node another nodeId");
    }
  }

  /**
   * Publishes a node that has just started its agent, then places on the live nodes every replica
   * that is wanted but missing (a node that starts may be the one a service was waiting for).
   *
   * @param nodeId   the node id
   * @param catalog  its catalogue: service name to class name
   * @return completion; fails with {@link NodeIdInUseException} when another live JVM of the cluster runs a node
   *         of that id (its record is left as it is)
   */
  public Future<Void> join(String nodeId, Map<String, String> catalog) {
    return blocking(() -> {
      NodeRecord record = NodeRecord.ofThisJvm(nodeId, member(),
        hazelcast.getCluster().getLocalMember().getAddress().getHost(), catalog, System.currentTimeMillis());
      // Under the id's lock: of two JVMs starting with the same id at once, one takes it.
      if (!nodes.tryLock(nodeId, LOCK_WAIT_S, TimeUnit.SECONDS)) {
        throw new IllegalStateException("The record of node " + nodeId + " stayed locked for " + LOCK_WAIT_S + " s");
      }
      try {
        liveDuplicate(nodeId);
        nodes.set(nodeId, record.toJson().encode());
        reconciler.own(record);
      } finally {
        nodes.unlock(nodeId);
      }
      // A node that starts again under the same id runs nothing yet: forget what the old one ran.
      reconcile(Set.of(nodeId), Set.of());
      return null;
    });
  }

  /**
   * A planned leave: the node is no longer offered to placement, and its replicas are placed on
   * other live nodes before it stops them. A node record of that id held by another JVM is left
   * as it is.
   *
   * @param nodeId the node that leaves
   * @return completion
   */
  public Future<Void> leave(String nodeId) {
    return blocking(() -> {
      NodeRecord record = readOne(nodes, nodeId, NodeRecord::fromJson);
      if (record != null && !record.member().equals(member())) {
        // Another JVM runs this id: what the record says it runs is not ours to forget.
        LOG.info("Environment '{}': node {} leaves without touching the record of member {}", environment, nodeId,
          record.member());
        return null;
      }
      reconciler.disown(nodeId);
      nodes.delete(nodeId);
      reconcile(Set.of(nodeId), Set.of(nodeId));
      return null;
    });
  }

  /**
   * Brings every placement back to its wanted count on live nodes, one service at a time under its lock.
   *
   * @param forget   nodes whose replicas count as gone
   * @param excluded nodes that may not take replicas
   */
  private void reconcile(Set<String> forget, Set<String> excluded) {
    for (String service : new ArrayList<>(placements.keySet())) {
      if (stopped) {
        return;
      }
      try {
        locked(service, () -> {
          ClusterState state = state();
          if (!state.placements().containsKey(service)) {
            return null;
          }
          Outcome outcome = carryOut(state, service, forget, excluded);
          write(outcome);
          if (outcome.placed() != null && outcome.placed().running() < outcome.placed().replicas()) {
            LOG.warn("Environment '{}': only {} of {} replicas of '{}' are placed: {}", environment,
              outcome.placed().running(), outcome.placed().replicas(), service, outcome.why());
          }
          return null;
        });
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        LOG.warn("Environment '{}': re-placing '{}' failed", environment, service, e);
      }
    }
  }

  /** Runs after a member left the cluster: the oldest member re-places what the dead nodes ran. */
  private void memberLeft(Member member) {
    if (stopped || !oldest()) {
      return;
    }
    if (hazelcast.getCluster().getMembers().stream().allMatch(Member::isLiteMember)) {
      LOG.warn("Environment '{}': member {} left and no data member is left in the cluster: nothing can be re-placed "
        + "until a node joins", environment, member.getUuid());
      return;
    }
    blocking(() -> {
      ClusterState state = state();
      for (String node : Placement.deadNodes(state)) {
        if (reconciler.owns(node)) {
          continue; // this JVM's own node, under a member id it no longer has: the reconciler publishes it again
        }
        NodeRecord record = state.nodes().get(node);
        String how = record.member().equals(member.getUuid().toString()) ? "member " + member.getUuid() + " left"
          : "its member " + record.member() + " is gone (member " + member.getUuid() + " just left)";
        if (removeDeadNode(node, record.member())) { // the reconciler may have removed it already
          LOG.warn("Environment '{}': node {} is no longer in the cluster without having left: {}; this member {} "
            + "sees {} members; re-placing its replicas", environment, node, how, member(), state.members().size());
        }
      }
      // Services registered by a JVM that died have nobody to undeploy them: nothing may be left running.
      for (String service : Placement.orphanedServices(state)) {
        String gone = state.services().get(service).member();
        String raw = services.get(service);
        ServiceRecord current = parse(services, service, raw, ServiceRecord::fromJson);
        // Only while it still names the member that left: another pass may have removed it already, and the member
        // may have registered it again since under a new id (back from a partition).
        if (current == null || !current.member().equals(gone) || memberIds().contains(gone)
          || !services.remove(service, raw)) {
          continue;
        }
        LOG.warn("Environment '{}': service '{}' was registered by member {}, which left the cluster; undeploying "
          + "its replicas", environment, service, gone);
        unplace(service);
      }
      reconcile(Set.of(), Set.of());
      return null;
    }).onComplete(ar -> reconciler.soon()).onFailure(e -> LOG.warn("Environment '{}': re-placing after member {} "
      + "left failed", environment, member.getUuid(), e));
  }

  /** {@return whether this JVM is the oldest member of the cluster, which re-places and reconciles} */
  boolean oldest() {
    try {
      return hazelcast.getCluster().getMembers().iterator().next().localMember();
    } catch (RuntimeException e) {
      return false; // Hazelcast is shutting down
    }
  }

  /** {@return whether the coordinator runs, on a live Hazelcast} */
  boolean active() {
    return !stopped && hazelcast.getLifecycleService().isRunning();
  }

  /** {@return the member ids of the cluster now} */
  Set<String> memberIds() {
    Set<String> ids = new HashSet<>();
    for (Member m : hazelcast.getCluster().getMembers()) {
      ids.add(m.getUuid().toString());
    }
    return ids;
  }

  /** {@return what {@code work} returns, run under a service's lock in the placement map} */
  <T> T locked(String service, Supplier<T> work) throws InterruptedException {
    String me = member();
    if (!MapLocks.lock(placements, service, TimeUnit.SECONDS.toMillis(LOCK_WAIT_S))) {
      throw new IllegalStateException("The placement of service '" + service + "' stayed locked for " + LOCK_WAIT_S
        + " s");
    }
    String outer = lockedAs.get();
    lockedAs.set(me);
    try {
      return work.get();
    } finally {
      lockedAs.set(outer);
      MapLocks.unlock(placements, service, me, this::member);
    }
  }

  /** {@return whether {@code work} ran under a service's lock in the placement map, which was free within the wait} */
  boolean tryLocked(String service, long waitMs, Runnable work) throws InterruptedException {
    String me = member();
    if (!MapLocks.lock(placements, service, waitMs)) {
      return false;
    }
    String outer = lockedAs.get();
    lockedAs.set(me);
    try {
      work.run();
      return true;
    } finally {
      lockedAs.set(outer);
      MapLocks.unlock(placements, service, me, this::member);
    }
  }

  /**
   * {@return whether Hazelcast merged this JVM into another part of the cluster since this thread took the lock it
   * works under} Its plan came from the records of the part it was in (a node cut off and alone sees everyone else
   * gone): carrying it on would, for instance, delete the merged cluster's placement of a service; the reconciliation
   * that follows the merge decides again from the merged records.
   */
  boolean merged() {
    String as = lockedAs.get();
    if (as == null || as.equals(member())) {
      return false;
    }
    LOG.warn("Environment '{}': this member merged into its cluster (member {} is now {}) while it worked under a "
      + "service's lock: what it decided before is not carried on", environment, as, member());
    return true;
  }

  /** {@return the environment's records and the live members, read now} */
  ClusterState state() {
    return new ClusterState(read(services, ServiceRecord::fromJson), read(nodes, NodeRecord::fromJson), memberIds(),
      read(placements, PlacementRecord::fromJson));
  }

  /** {@return the records of a map by key; a record that does not read is logged and left out} */
  private <R> Map<String, R> read(IMap<String, String> map, Function<JsonObject, R> reader) {
    Map<String, R> out = new TreeMap<>();
    for (Map.Entry<String, String> e : map.entrySet()) {
      R record = parse(map, e.getKey(), e.getValue(), reader);
      if (record != null) {
        out.put(e.getKey(), record);
      }
    }
    return out;
  }

  private <R> R readOne(IMap<String, String> map, String key, Function<JsonObject, R> reader) {
    String json = map.get(key);
    return json == null ? null : parse(map, key, json, reader);
  }

  private <R> R parse(IMap<String, String> map, String key, String json, Function<JsonObject, R> reader) {
    return parse(environment, map, key, json, reader);
  }

  /** {@return a record read from its JSON, or {@code null} when there is none or it does not read (logged)} */
  static <R> R parse(String environment, IMap<String, String> map, String key, String json,
                     Function<JsonObject, R> reader) {
    if (json == null) {
      return null;
    }
    try {
      return reader.apply(new JsonObject(json));
    } catch (RuntimeException e) {
      LOG.warn("Environment '{}': ignoring the unreadable record '{}' of map {}: {}", environment, key, map.getName(),
        e.toString());
      return null;
    }
  }

  /**
   * What carrying out a plan left: the placement record to write ({@code null}: delete it), the one read before, the
   * replicas undeployed, and why the wanted count was not reached.
   */
  private record Outcome(String service, PlacementRecord before, PlacementRecord placed, int undeployed, String why) {
  }

  /** Plans a service's placement and carries the plan out; a node that fails to deploy is excluded and placement asked again. */
  private Outcome carryOut(ClusterState state, String service, Set<String> forget, Set<String> excluded) {
    return carryOut(state, Placement.plan(state, service, forget, excluded), excluded);
  }

  private Outcome carryOut(ClusterState state, PlacementPlan plan, Set<String> excluded) {
    String service = plan.service();
    int undeployed = 0;
    for (String node : plan.drain()) {
      if (merged()) {
        break;
      }
      try {
        JsonObject reply = vertx.eventBus().<JsonObject>request(NodeAgentVerticle.address(environment, node),
          NodeAgentVerticle.undeployRequest(service), new DeliveryOptions().setSendTimeout(AGENT_TIMEOUT_MS))
          .await().body();
        undeployed += reply.getInteger("undeployed", 0);
      } catch (RuntimeException e) {
        LOG.warn("Environment '{}': undeploying '{}' on node {} failed", environment, service, node, e);
      }
    }
    if (plan.remove()) {
      if (plan.current() != null) {
        LOG.info("Environment '{}': undeployed {} replica(s) of '{}'", environment, undeployed, service);
      }
      return new Outcome(service, plan.current(), null, undeployed, null);
    }
    if (plan.kept() == null) {
      return new Outcome(service, null, null, 0, null); // nothing placed, nothing wanted
    }
    Set<String> failed = new HashSet<>(excluded);
    Throwable lastFailure = null;
    PlacementRecord placed = plan.kept();
    PlacementPlan next = plan;
    while (!next.add().isEmpty() && !merged()) {
      boolean anyFailed = false;
      for (Map.Entry<String, Integer> step : next.add().entrySet()) {
        String node = step.getKey();
        int n = step.getValue();
        try {
          vertx.eventBus().request(NodeAgentVerticle.address(environment, node),
            NodeAgentVerticle.deployRequest(service, n, versionOf(state, service)),
            new DeliveryOptions().setSendTimeout(AGENT_TIMEOUT_MS)).await();
          placed = placed.plus(node, n);
          LOG.info("Environment '{}': placed {} replica(s) of '{}' on node {} ({} of {})", environment, n, service,
            node, placed.running(), placed.replicas());
        } catch (RuntimeException e) {
          LOG.warn("Environment '{}': node {} could not deploy '{}'", environment, node, service, e);
          failed.add(node);
          lastFailure = e;
          anyFailed = true;
        }
      }
      if (!anyFailed) {
        next = null;
        break;
      }
      next = Placement.plan(state.with(placed), service, Set.of(), failed);
    }
    placedCounts.put(service, placed.running());
    String why = next == null ? null : next.problem();
    if (lastFailure != null && placed.running() < placed.replicas()) {
      why = "every node that could run it failed: " + lastFailure;
    }
    return new Outcome(service, plan.current(), placed, undeployed, why);
  }

  /** {@return the version of a service's registration, which the replicas placed for it serve (0 without one)} */
  private static int versionOf(ClusterState state, String service) {
    ServiceRecord registration = state.services().get(service);
    return registration == null ? 0 : registration.version();
  }

  /** Writes what carrying out a plan left in the placement map, when it changed. */
  private void write(Outcome outcome) {
    if (merged()) {
      return;
    }
    if (outcome.placed() == null) {
      if (outcome.before() != null) {
        placements.delete(outcome.service());
      }
      placedCounts.remove(outcome.service());
    } else if (!outcome.placed().equals(outcome.before())) {
      placements.set(outcome.service(), outcome.placed().toJson().encode());
    }
  }

  /**
   * {@return whether this call removed a node's record: only while it still names the member that is gone}
   *
   * @param node   a node id
   * @param member the member its record named when it was found dead
   */
  boolean removeDeadNode(String node, String member) {
    if (memberIds().contains(member)) {
      return false; // a member again (this JVM's view was a part's, before a merge)
    }
    String raw = nodes.get(node);
    NodeRecord current = parse(nodes, node, raw, NodeRecord::fromJson);
    return current != null && current.member().equals(member) && nodes.remove(node, raw);
  }

  /** Under the service's lock: writes a placement record corrected by the reconciler. */
  void rewrite(PlacementRecord corrected) {
    if (!merged()) {
      placements.set(corrected.service(), corrected.toJson().encode());
    }
  }

  /** Under the service's lock: removes a placement record that nothing may run for any longer. */
  void forget(String service) {
    if (!merged()) {
      placements.delete(service);
      placedCounts.remove(service);
    }
  }

  /** Under the service's lock: places what a service lacks from a state whose placement record is written. */
  void placeMissing(ClusterState state, String service) {
    Outcome outcome = carryOut(state, service, Set.of(), Set.of());
    write(outcome);
    if (outcome.placed() != null && outcome.placed().running() < outcome.placed().replicas() && outcome.why() != null) {
      LOG.warn("Environment '{}': only {} of {} replicas of '{}' are placed: {}", environment,
        outcome.placed().running(), outcome.placed().replicas(), service, outcome.why());
    }
  }

  // ---------------------------------------------------------------- autoscaling

  /** How long a node's published load counts: one that stops publishing (frozen, gone) drops out after it. */
  public static final long LOAD_TTL_MS = 5_000;
  /** How long a call's ask for a replica of a service with none stays. */
  private static final long DEMAND_TTL_MS = 30_000;
  /** A JVM asks for a replica of a service at most this often. */
  private static final long DEMAND_SPACING_MS = 1_000;
  /** Local map naming the one coordinator of each environment in a Vertx that runs autoscaling. */
  private static final String AUTOSCALERS = "sagebus.autoscalers";

  /**
   * Publishes what the replicas of a node carry now, for the oldest member's autoscaling; the record
   * expires after {@link #LOAD_TTL_MS} unless published again.
   *
   * @param nodeId the node id
   * @param load   {@code {"node", "member", "services": {name: {"replicas", "inFlight", "queued"}}}}
   * @return completion
   */
  public Future<Void> publishLoad(String nodeId, JsonObject load) {
    return Future.fromCompletionStage(loads.setAsync(nodeId, load.encode(), LOAD_TTL_MS, TimeUnit.MILLISECONDS),
      context).mapEmpty();
  }

  @Override
  public Future<Void> requestReplica(String service) {
    long now = System.nanoTime();
    Long last = demandSent.get(service);
    if (stopped || (last != null && now - last < TimeUnit.MILLISECONDS.toNanos(DEMAND_SPACING_MS))) {
      return Future.succeededFuture();
    }
    demandSent.put(service, now);
    return Future.fromCompletionStage(demand.setAsync(service, member(), DEMAND_TTL_MS, TimeUnit.MILLISECONDS),
      context).mapEmpty();
  }

  private void scheduleAutoscaling() {
    autoscaleTimer = vertx.setTimer(AutoscaleLoop.PERIOD_MS, id -> blocking(() -> {
      // One coordinator per Vertx decides (a node agent's and an environment's may share one), on the oldest member.
      String mine = context.deploymentID();
      String holder = vertx.sharedData().<String, String>getLocalMap(AUTOSCALERS).putIfAbsent(environment, mine);
      if (!stopped && oldest() && (holder == null || holder.equals(mine))) {
        autoscaling.step(TimeUnit.NANOSECONDS.toMillis(System.nanoTime()));
      } else {
        autoscaling.reset();
      }
      return null;
    }).onComplete(ar -> {
      if (ar.failed() && !stopped) {
        LOG.warn("Environment '{}': an autoscaling step failed", environment, ar.cause());
      }
      if (!stopped) {
        scheduleAutoscaling();
      }
    }));
  }

  /** What autoscaling needs of this coordinator; called on its virtual thread, inside {@code blocking}. */
  private final class Scaling implements AutoscaleLoop.Cluster {
    @Override
    public ClusterState state() {
      return Coordinator.this.state();
    }

    @Override
    public java.util.Collection<JsonObject> loads() {
      return read(loads, json -> json).values();
    }

    @Override
    public Set<String> demanded() {
      return new HashSet<>(demand.keySet());
    }

    @Override
    public void served(String service) {
      demand.delete(service);
    }

    @Override
    public void resize(String service, int from, int to, String why) {
      try {
        locked(service, () -> {
          ClusterState state = Coordinator.this.state();
          PlacementRecord current = state.placements().get(service);
          if (current == null || current.replicas() != from) {
            return null; // changed since the decision: the next step decides again
          }
          LOG.info("Environment '{}': scaling '{}' from {} to {} replicas: {}", environment, service, from, to, why);
          if (to > from) {
            Outcome outcome = carryOut(Placement.want(state, service, current.type(), to), service, Set.of(), Set.of());
            write(new Outcome(service, current, outcome.placed(), 0, outcome.why()));
            if (outcome.placed() != null && outcome.placed().running() < to) {
              LOG.warn("Environment '{}': only {} of {} replicas of '{}' are placed: {}", environment,
                outcome.placed().running(), to, service, outcome.why());
            }
            return null;
          }
          Autoscaler.Shrink shrink = Autoscaler.shrink(state, service, to);
          PlacementRecord after = shrink.after();
          for (Map.Entry<String, Integer> step : shrink.drain().entrySet()) {
            try {
              vertx.eventBus().request(NodeAgentVerticle.address(environment, step.getKey()),
                NodeAgentVerticle.undeployRequest(service, step.getValue()),
                new DeliveryOptions().setSendTimeout(AGENT_TIMEOUT_MS)).await();
            } catch (RuntimeException e) {
              LOG.warn("Environment '{}': draining {} replica(s) of '{}' on node {} failed", environment,
                step.getValue(), service, step.getKey(), e);
              after = after.plus(step.getKey(), step.getValue()); // still running there, as far as we know
            }
          }
          placedCounts.put(service, after.running());
          write(new Outcome(service, current, after, 0, null));
          return null;
        });
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Hazelcast calls this on its own threads. */
  private final class Listener implements MembershipListener {
    @Override
    public void memberAdded(MembershipEvent event) {
      // A new node fills deficits itself once its agent is up (join); a member back from a partition may run what
      // the records no longer hold.
      reconciler.soon();
    }

    @Override
    public void memberRemoved(MembershipEvent event) {
      memberLeft(event.getMember());
    }
  }
}
