package io.sagebus.cluster.impl;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.map.IMap;
import io.sagebus.cluster.NodeAgentVerticle;
import io.sagebus.cluster.SagebusCluster;
import io.sagebus.impl.ServiceDefinition;
import io.sagebus.impl.ServiceDirectory;
import io.sagebus.impl.ServicePlacement;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The cluster side of one environment in one JVM: its records in Hazelcast maps (registered
 * services, live nodes, placements, jobs), the placement of service replicas on node agents,
 * and their re-placement when a node dies or leaves.
 * <p>
 * Every placement change of a service runs under that service's lock in the placements map, so
 * that two JVMs placing at once never both fill the same deficit: a record holds the wanted
 * replica count and the replicas per node, and a change only ever places the difference between
 * the wanted count and the replicas on live nodes. Runs as a virtual-thread verticle: the
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
  private HazelcastInstance hazelcast;
  private IMap<String, String> services;
  private IMap<String, String> nodes;
  private IMap<String, String> placements;
  private IMap<String, String> jobs;
  private UUID listenerId;
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
   * @param kind        {@code services}, {@code nodes}, {@code placements} or {@code jobs}
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
    listenerId = hazelcast.getCluster().addMembershipListener(new Listener());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    try {
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
    String encoded = new JsonObject()
      .put("name", definition.name())
      .put("type", definition.typeName())
      .put("local", local)
      .put("member", me)
      .put("options", definition.options().toJson())
      .encode();
    Future<Void> published = blocking(() -> {
      String previous = services.putIfAbsent(definition.name(), encoded);
      if (previous != null) {
        JsonObject other = new JsonObject(previous);
        String owner = other.getString("member");
        if (!me.equals(owner) && memberIds().contains(UUID.fromString(owner))) {
          throw new IllegalStateException("Service '" + definition.name() + "' is already registered in environment '"
            + environment + "' by another member of the cluster (" + owner + ", class " + other.getString("type")
            + "): one JVM registers a service; call it from here without registering it, or choose another name");
        }
        services.set(definition.name(), encoded); // ours, or left by a member that is gone
      }
      return null;
    });
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
        services.delete(name);
      }
      return null;
    });
  }

  /**
   * Records a job's state.
   *
   * @param id     the job id
   * @param record its state
   * @return completion
   */
  public Future<Void> recordJob(String id, JsonObject record) {
    return Future.fromCompletionStage(jobs.setAsync(id, record.encode()), context).mapEmpty();
  }

  /**
   * {@return every record of one of the environment's maps, sorted by key}
   *
   * @param kind {@code services}, {@code nodes}, {@code placements} or {@code jobs}
   */
  public Future<JsonArray> records(String kind) {
    IMap<String, String> map = switch (kind) {
      case "services" -> services;
      case "nodes" -> nodes;
      case "placements" -> placements;
      case "jobs" -> jobs;
      default -> throw new IllegalArgumentException("No map " + kind);
    };
    return blocking(() -> {
      Set<UUID> members = memberIds();
      JsonArray out = new JsonArray();
      map.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
        JsonObject record = new JsonObject(e.getValue());
        if (map == nodes && !members.contains(UUID.fromString(record.getString("member")))) {
          return; // a dead node whose record the oldest member has not removed yet
        }
        out.add(record);
      });
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
    return !"supplier".equals(definition.typeName()) && !"factory".equals(definition.typeName());
  }

  @Override
  public Future<Integer> deploy(ServiceDefinition definition) {
    String service = definition.name();
    String type = definition.typeName();
    int replicas = definition.options().getInstances();
    Future<Void> published = publications.getOrDefault(service, Future.succeededFuture());
    return published.compose(v -> blocking(() -> locked(service, () -> {
      String owner = otherOwner(service);
      if (owner != null) {
        throw new IllegalStateException("Service '" + service + "' of environment '" + environment + "' is registered "
          + "by another member of the cluster (" + owner + "), which places and undeploys its replicas");
      }
      JsonObject record = readPlacement(service);
      if (record == null) {
        record = new JsonObject().put("service", service).put("nodes", new JsonObject());
      }
      record.put("type", type).put("replicas", replicas);
      int running = fill(record, null);
      placements.set(service, record.encode());
      return running;
    })));
  }

  @Override
  public Future<Integer> undeploy(String service) {
    return blocking(() -> {
      String owner = otherOwner(service);
      if (owner != null) {
        LOG.info("Environment '{}': not undeploying '{}': member {} registered it", environment, service, owner);
        return 0;
      }
      return unplace(service);
    });
  }

  /** {@return the live member other than this one that registered the service, or {@code null}} */
  private String otherOwner(String service) {
    String json = services.get(service);
    if (json == null) {
      return null;
    }
    String owner = new JsonObject(json).getString("member");
    return !member().equals(owner) && memberIds().contains(UUID.fromString(owner)) ? owner : null;
  }

  /** Undeploys the replicas of a service from the live nodes and forgets its placement. */
  private int unplace(String service) throws InterruptedException {
    return locked(service, () -> {
      JsonObject record = readPlacement(service);
      if (record == null) {
        return 0;
      }
      Map<String, JsonObject> live = liveNodes();
      int undeployed = 0;
      for (String node : record.getJsonObject("nodes").fieldNames()) {
        if (!live.containsKey(node)) {
          continue;
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
      placements.delete(service);
      placedCounts.remove(service);
      LOG.info("Environment '{}': undeployed {} replica(s) of '{}'", environment, undeployed, service);
      return undeployed;
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
   * Publishes a node that has just started its agent, then places on the live nodes every replica
   * that is wanted but missing (a node that starts may be the one a service was waiting for).
   *
   * @param nodeId   the node id
   * @param catalog  its catalogue: service name to class name
   * @return completion
   */
  public Future<Void> join(String nodeId, Map<String, String> catalog) {
    return blocking(() -> {
      JsonObject record = new JsonObject()
        .put("node", nodeId)
        .put("member", hazelcast.getCluster().getLocalMember().getUuid().toString())
        .put("host", hazelcast.getCluster().getLocalMember().getAddress().getHost())
        .put("services", new JsonObject(new LinkedHashMap<>(catalog)))
        .put("joined", System.currentTimeMillis())
        .put("pid", ProcessHandle.current().pid())
        .put("java", Runtime.version().toString())
        .put("processors", Runtime.getRuntime().availableProcessors());
      nodes.set(nodeId, record.encode());
      // A node that starts again under the same id runs nothing yet: forget what the old one ran.
      reconcile(nodeId);
      return null;
    });
  }

  /**
   * A planned leave: the node is no longer offered to placement, and its replicas are placed on
   * other live nodes before it stops them.
   *
   * @param nodeId the node that leaves
   * @return completion
   */
  public Future<Void> leave(String nodeId) {
    return blocking(() -> {
      nodes.delete(nodeId);
      reconcile(nodeId);
      return null;
    });
  }

  /**
   * Brings every placement back to its wanted count on live nodes.
   *
   * @param forget a node whose replicas count as gone, or {@code null}
   */
  private void reconcile(String forget) {
    for (String service : new ArrayList<>(placements.keySet())) {
      if (stopped) {
        return;
      }
      try {
        locked(service, () -> {
          JsonObject record = readPlacement(service);
          if (record == null) {
            return null;
          }
          String before = record.encode();
          if (forget != null) {
            record.getJsonObject("nodes").remove(forget);
          }
          fill(record, forget);
          String after = record.encode();
          if (!after.equals(before)) {
            placements.set(service, after);
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
      Set<UUID> members = memberIds();
      for (Map.Entry<String, String> e : nodes.entrySet()) {
        JsonObject record = new JsonObject(e.getValue());
        if (!members.contains(UUID.fromString(record.getString("member")))) {
          LOG.warn("Environment '{}': node {} left the cluster without leaving (member {}); re-placing its replicas",
            environment, e.getKey(), member.getUuid());
          nodes.delete(e.getKey());
        }
      }
      // Services registered by a JVM that died have nobody to undeploy them: nothing may be left running.
      for (Map.Entry<String, String> e : services.entrySet()) {
        JsonObject record = new JsonObject(e.getValue());
        if (!members.contains(UUID.fromString(record.getString("member")))) {
          LOG.warn("Environment '{}': service '{}' was registered by member {}, which left the cluster; undeploying "
            + "its replicas", environment, e.getKey(), record.getString("member"));
          services.delete(e.getKey());
          unplace(e.getKey());
        }
      }
      reconcile(null);
      return null;
    }).onFailure(e -> LOG.warn("Environment '{}': re-placing after member {} left failed", environment,
      member.getUuid(), e));
  }

  private boolean oldest() {
    try {
      return hazelcast.getCluster().getMembers().iterator().next().localMember();
    } catch (RuntimeException e) {
      return false; // Hazelcast is shutting down
    }
  }

  private Set<UUID> memberIds() {
    Set<UUID> ids = new HashSet<>();
    for (Member m : hazelcast.getCluster().getMembers()) {
      ids.add(m.getUuid());
    }
    return ids;
  }

  private <T> T locked(String service, Supplier<T> work) throws InterruptedException {
    if (!placements.tryLock(service, LOCK_WAIT_S, TimeUnit.SECONDS)) {
      throw new IllegalStateException("The placement of service '" + service + "' stayed locked for " + LOCK_WAIT_S
        + " s");
    }
    try {
      return work.get();
    } finally {
      placements.unlock(service);
    }
  }

  private JsonObject readPlacement(String service) {
    String json = placements.get(service);
    return json == null ? null : new JsonObject(json);
  }

  /** The live nodes by id: a record whose member is in the cluster. */
  private Map<String, JsonObject> liveNodes() {
    Set<UUID> members = memberIds();
    Map<String, JsonObject> live = new HashMap<>();
    for (Map.Entry<String, String> e : nodes.entrySet()) {
      JsonObject record = new JsonObject(e.getValue());
      if (members.contains(UUID.fromString(record.getString("member")))) {
        live.put(e.getKey(), record);
      }
    }
    return live;
  }

  private static int sum(JsonObject placed) {
    int n = 0;
    for (String node : placed.fieldNames()) {
      n += placed.getInteger(node);
    }
    return n;
  }

  /** Replicas per live node over every service, for spreading load. */
  private Map<String, Integer> load(Map<String, JsonObject> live) {
    Map<String, Integer> load = new HashMap<>();
    for (String json : placements.values()) {
      JsonObject placed = new JsonObject(json).getJsonObject("nodes");
      for (String node : placed.fieldNames()) {
        if (live.containsKey(node)) {
          load.merge(node, placed.getInteger(node), Integer::sum);
        }
      }
    }
    return load;
  }

  /**
   * Drops the replicas of dead nodes from a record and places the missing ones: each on the
   * live node, among those whose catalogue holds the service with the same class, that runs the
   * fewest replicas of it, then the fewest replicas in all, then the smallest id.
   *
   * @return the replicas running
   */
  private int fill(JsonObject record, String excluded) {
    String service = record.getString("service");
    String type = record.getString("type");
    int wanted = record.getInteger("replicas");
    JsonObject placed = record.getJsonObject("nodes");
    Map<String, JsonObject> live = liveNodes();
    if (excluded != null) {
      live.remove(excluded);
    }
    for (String node : new ArrayList<>(placed.fieldNames())) {
      if (!live.containsKey(node)) {
        placed.remove(node);
      }
    }
    int have = sum(placed);
    if (have >= wanted) {
      placedCounts.put(service, have);
      return have;
    }
    List<String> candidates = new ArrayList<>();
    List<String> otherType = new ArrayList<>();
    for (Map.Entry<String, JsonObject> e : live.entrySet()) {
      String theirs = e.getValue().getJsonObject("services").getString(service);
      if (type.equals(theirs)) {
        candidates.add(e.getKey());
      } else if (theirs != null) {
        otherType.add(e.getKey() + " (" + theirs + ")");
      }
    }
    Map<String, Integer> load = load(live);
    Set<String> failed = new HashSet<>();
    Throwable lastFailure = null;
    while (have < wanted && failed.size() < candidates.size()) {
      Map<String, Integer> plan = new LinkedHashMap<>();
      for (int i = have; i < wanted; i++) {
        String best = candidates.stream()
          .filter(c -> !failed.contains(c))
          .min(Comparator.<String>comparingInt(c -> placed.getInteger(c, 0) + plan.getOrDefault(c, 0))
            .thenComparingInt(c -> load.getOrDefault(c, 0) + plan.getOrDefault(c, 0))
            .thenComparing(c -> c))
          .orElseThrow();
        plan.merge(best, 1, Integer::sum);
      }
      for (Map.Entry<String, Integer> step : plan.entrySet()) {
        String node = step.getKey();
        int n = step.getValue();
        try {
          vertx.eventBus().request(NodeAgentVerticle.address(environment, node),
            NodeAgentVerticle.deployRequest(service, n), new DeliveryOptions().setSendTimeout(AGENT_TIMEOUT_MS)).await();
          placed.put(node, placed.getInteger(node, 0) + n);
          load.merge(node, n, Integer::sum);
          have += n;
          LOG.info("Environment '{}': placed {} replica(s) of '{}' on node {} ({} of {})", environment, n, service,
            node, have, wanted);
        } catch (RuntimeException e) {
          LOG.warn("Environment '{}': node {} could not deploy '{}'", environment, node, service, e);
          failed.add(node);
          lastFailure = e;
        }
      }
    }
    placedCounts.put(service, have);
    if (have == 0) {
      String why = candidates.isEmpty()
        ? "no live node has service '" + service + "' of class " + type + " in its catalogue (live nodes: "
          + live.keySet() + (otherType.isEmpty() ? "" : "; with another class: " + otherType)
          + "). Start a node whose -conf lists it, or register a Supplier to run it in this JVM"
        : "every node that could run it failed: " + lastFailure;
      throw new IllegalStateException("Cannot place service '" + service + "': " + why);
    }
    if (have < wanted) {
      LOG.warn("Environment '{}': only {} of {} replicas of '{}' are placed (nodes able to run it: {})", environment,
        have, wanted, service, candidates);
    }
    return have;
  }

  /** Hazelcast calls this on its own threads. */
  private final class Listener implements MembershipListener {
    @Override
    public void memberAdded(MembershipEvent event) {
      // A new node fills deficits itself once its agent is up (join).
    }

    @Override
    public void memberRemoved(MembershipEvent event) {
      memberLeft(event.getMember());
    }
  }
}
