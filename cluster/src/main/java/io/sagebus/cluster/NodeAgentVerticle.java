package io.sagebus.cluster;

import com.hazelcast.core.HazelcastInstanceNotActiveException;
import io.sagebus.FailureCode;
import io.sagebus.cluster.impl.Coordinator;
import io.sagebus.ServiceTaskVerticle;
import io.sagebus.impl.Deployments;
import io.sagebus.impl.wire.Protocol;
import io.sagebus.impl.registry.ServiceDefinition;
import io.sagebus.spi.ServiceDirectory;
import io.vertx.core.Closeable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.RegistrationInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The agent of one node: deploys and undeploys the replicas of the node's {@link ServiceCatalog}
 * when asked over the event bus. One runs on every node, for an environment and a node id, and
 * consumes the clustered address {@code sagebus.<env>.node.<nodeId>} ({@link #address(String, String)}).
 * <p>
 * Requests are JSON objects that name catalogue entries, never classes:
 * <ul>
 *   <li>{@code {"action": "deploy", "service": name, "instances": n, "version": v}} deploys {@code n} more
 *       replicas (each a {@link ServiceTaskVerticle} on a virtual thread) of the registration's version
 *       {@code v} (0 when left out) and answers {@code {"service", "deployed": n, "running": total}} once
 *       all their consumers are registered. When one replica fails to start, the others of the request
 *       are undeployed and the request fails with {@link FailureCode#SERVICE_ERROR}.</li>
 *   <li>{@code {"action": "undeploy", "service": name}} undeploys every replica of the service on
 *       this node and answers {@code {"service", "undeployed": n, "running": 0}}. The replicas leave
 *       first ({@link ServiceTaskVerticle#leave()}): every call that reaches them is refused
 *       {@link FailureCode#LEAVING} without running, which its caller sends to another replica; in a
 *       cluster this node's registrations of the address leave the cluster's subscription map while
 *       the consumers stay and answer, until no call has reached them for half a second (10 s at
 *       most); then each drains its executing calls as {@link ServiceTaskVerticle} does. With
 *       {@code "instances": n} it undeploys only the {@code n} replicas deployed last (all of them when
 *       fewer run), and answers {@code {"service", "undeployed": n, "running": left}}: how reconciliation
 *       and autoscaling drain a surplus. With {@code "keepVersion": v} as well it undeploys up to {@code n}
 *       replicas of other versions than {@code v}, those deployed first first: how a rolling replacement
 *       drains an old replica. When replicas of the service stay on this node, this node stays in every
 *       member's routing for the address, and the calls routed here are served by them or refused by the
 *       leaving ones (LEAVING, re-sent): those that go leave and are undeployed at once (their queued
 *       calls refused LEAVING, a call that meets a consumer being unregistered discarded by Vert.x and
 *       re-sent by its caller), then drain their executing calls. When none stay, they leave as above.</li>
 *   <li>{@code {"action": "list"}} answers {@code {"node": nodeId, "services": {name: running},
 *       "versions": {name: {"v": running}}}} with every catalogue name and its number of running
 *       replicas (0 when none), and for each running one its replicas by version.</li>
 * </ul>
 * A request naming a service that is not in the catalogue, whatever it looks like (a class name
 * included), is refused at once with {@link FailureCode#BAD_REQUEST} and logged at WARN; so is a
 * malformed request. The agent never resolves a class from a message: classes are resolved only
 * when the catalogue is built from the node's own configuration. Requests for one service run one
 * after another; every request gets exactly one answer.
 * <p>
 * Replicas are top-level deployments; undeploying the agent stops taking requests, waits for
 * those under way, and undeploys all its replicas.
 * <pre>{@code
 * vertx.deployVerticle(new NodeAgentVerticle("shop", "node-1", ServiceCatalog.fromJson(config))).await();
 * vertx.eventBus().request(NodeAgentVerticle.address("shop", "node-1"), NodeAgentVerticle.deployRequest("profile", 2));
 * }</pre>
 */
public final class NodeAgentVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(NodeAgentVerticle.class);
  /** The most replicas one deploy request may ask for. */
  public static final int MAX_INSTANCES_PER_REQUEST = 256;
  private static final int MAX_LOGGED_CHARS = 120;
  /** A leaving replica refuses calls for at least this long after its registrations left the cluster's map. */
  static final long LEAVE_MIN_MS = 500;
  /** ...and until no call reached it for this long. */
  static final long LEAVE_QUIET_MS = 500;
  /** ...but no longer than this. */
  static final long LEAVE_MAX_MS = 10_000;
  private static final long LEAVE_POLL_MS = 50;
  /** How often a clustered agent publishes its replicas' load: every 500 ms. */
  public static final long LOAD_PERIOD_MS = 500;

  private final String environment;
  private final String nodeId;
  private final String address;
  private final Map<String, ServiceDefinition> catalog = new LinkedHashMap<>();
  /** Deployment ids of the running replicas, per service; touched on the agent's context only. */
  private final Map<String, List<String>> running = new HashMap<>();
  /** The task of each running replica, by deployment id; touched on the agent's context only. */
  private final Map<String, ServiceTaskVerticle> taskById = new HashMap<>();
  /** The registration version of each running replica, by deployment id; touched on the agent's context only. */
  private final Map<String, Integer> versionById = new HashMap<>();
  private long loadTimer = -1;
  /** The last operation on each service, so operations on one service run one after another. */
  private final Map<String, Future<?>> tails = new HashMap<>();
  private final boolean clustered;
  private MessageConsumer<Object> consumer;
  private Coordinator coordinator;
  private String coordinatorId;
  private Closeable closeHook;
  private boolean stopping;
  /** Whether the node's record was published: only then does it leave placement on stop. */
  private boolean joined;
  private int instanceCounter;

  /**
   * An agent for a node.
   *
   * @param environment the environment name (part of the addresses)
   * @param nodeId      this node's id, unique in the cluster: 1 to 100 letters, digits, '_' or '-'
   * @param catalog     the services this node may run (copied: later additions do not reach the agent)
   * @throws IllegalArgumentException when a name is malformed
   * @throws NullPointerException     when the catalogue is null
   */
  public NodeAgentVerticle(String environment, String nodeId, ServiceCatalog catalog) {
    this(environment, nodeId, catalog, false);
  }

  private NodeAgentVerticle(String environment, String nodeId, ServiceCatalog catalog, boolean clustered) {
    this.clustered = clustered;
    this.environment = ServiceDefinition.checkName("environment", environment);
    this.nodeId = ServiceDefinition.checkName("node", nodeId);
    for (ServiceDefinition e : Objects.requireNonNull(catalog, "catalog").entries()) {
      this.catalog.put(e.name(), e);
    }
    this.address = address(environment, nodeId);
  }

  /**
   * {@return an agent that also takes part in placement, for a Vertx clustered on Hazelcast}
   * Once started, the node is published in the environment's node map (with the class of each
   * catalogue entry) and offered to placement; missing replicas of placed services are placed at
   * once, on this node or others. Undeploying the agent, or closing the Vertx (on SIGTERM, the
   * launcher does), is a planned leave: the node is withdrawn from placement, its replicas are
   * placed on other live nodes, and only then do they leave as an {@code undeploy} request has them
   * leave (calls that reach them are refused LEAVING and re-sent by their callers), and stop.
   * <p>
   * When another live JVM of the cluster already runs a node of this id, the agent does not start:
   * its start fails with an {@link IllegalStateException} naming that node (host, pid, member),
   * before it consumes its address, and the live node's record and replicas are left as they are.
   *
   * @param environment the environment name
   * @param nodeId      this node's id, unique in the cluster
   * @param catalog     the services this node may run
   * @throws IllegalArgumentException when a name is malformed
   */
  public static NodeAgentVerticle clustered(String environment, String nodeId, ServiceCatalog catalog) {
    return new NodeAgentVerticle(environment, nodeId, catalog, true);
  }

  /**
   * {@return the clustered address of a node's agent: {@code sagebus.<env>.node.<nodeId>}}
   *
   * @param environment the environment name
   * @param nodeId      the node id
   */
  public static String address(String environment, String nodeId) {
    return "sagebus." + environment + ".node." + nodeId;
  }

  /**
   * {@return a request to deploy replicas}
   *
   * @param service   a catalogue name
   * @param instances how many replicas to add
   */
  public static JsonObject deployRequest(String service, int instances) {
    return new JsonObject().put("action", "deploy").put("service", service).put("instances", instances);
  }

  /**
   * {@return a request to deploy replicas of a registration's version}
   *
   * @param service   a catalogue name
   * @param instances how many replicas to add
   * @param version   the version of the service's registration they serve (0 or more)
   */
  public static JsonObject deployRequest(String service, int instances, int version) {
    return deployRequest(service, instances).put("version", version);
  }

  /**
   * {@return a request to undeploy every replica of a service}
   *
   * @param service a catalogue name
   */
  public static JsonObject undeployRequest(String service) {
    return new JsonObject().put("action", "undeploy").put("service", service);
  }

  /**
   * {@return a request to undeploy some replicas of a service: those deployed last}
   *
   * @param service   a catalogue name
   * @param instances how many replicas to undeploy, from 1 to {@link #MAX_INSTANCES_PER_REQUEST}
   */
  public static JsonObject undeployRequest(String service, int instances) {
    return undeployRequest(service).put("instances", instances);
  }

  /**
   * {@return a request to undeploy some replicas of a service that are not of a version: those deployed first}
   *
   * @param service     a catalogue name
   * @param instances   how many replicas to undeploy at most, from 1 to {@link #MAX_INSTANCES_PER_REQUEST}
   * @param keepVersion the version whose replicas stay
   */
  public static JsonObject undeployOutdatedRequest(String service, int instances, int keepVersion) {
    return undeployRequest(service, instances).put("keepVersion", keepVersion);
  }

  /**
   * {@return a request for the catalogue names and running replica counts}
   */
  public static JsonObject listRequest() {
    return new JsonObject().put("action", "list");
  }

  /**
   * {@return the address this agent consumes}
   */
  public String address() {
    return address;
  }

  @Override
  public Future<?> start() {
    if (!clustered) {
      consumer = vertx.eventBus().consumer(address, this::handle);
      return consumer.completion().onSuccess(v -> logListening());
    }
    // Closing the Vertx undeploys every top-level deployment at once, the replicas with this agent: the
    // hook undeploys the agent first, so that the replicas are placed elsewhere before they stop.
    String deploymentId = context.deploymentID();
    closeHook = completion -> vertx.undeploy(deploymentId).onComplete(ar -> {
      if (ar.failed()) {
        LOG.debug("Undeploying node agent {} on close", nodeId, ar.cause());
      }
      completion.succeed();
    });
    ((VertxInternal) vertx).addCloseHook(closeHook);
    Map<String, String> types = new LinkedHashMap<>();
    catalog.forEach((name, entry) -> types.put(name, entry.typeName()));
    coordinator = new Coordinator(environment);
    return onAgent(Deployments.deployDetached(vertx, coordinator,
        new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)))
      .compose(id -> {
        coordinatorId = id;
        // Before the agent consumes its address: a node of that id that is live elsewhere must not get its requests.
        return onAgent(coordinator.checkNodeId(nodeId));
      })
      .compose(v -> {
        consumer = vertx.eventBus().consumer(address, this::handle);
        return consumer.completion();
      })
      .compose(v -> {
        ServiceDirectory.install(vertx, environment, coordinator);
        return onAgent(coordinator.join(nodeId, types));
      })
      .onSuccess(v -> {
        joined = true;
        loadTimer = vertx.setPeriodic(LOAD_PERIOD_MS, id -> publishLoad());
        logListening();
      })
      .recover(e -> {
        LOG.error("Node agent {} for environment '{}' did not start: {}", nodeId, environment, e.getMessage());
        return abandon().transform(ignored -> Future.failedFuture(e));
      });
  }

  private void logListening() {
    LOG.info("Node agent {} for environment '{}' listens on {}; catalogue: {}", nodeId, environment, address,
      catalog.keySet());
  }

  /** Undoes a clustered start that failed: nothing of this agent stays registered or deployed. */
  private Future<Void> abandon() {
    ((VertxInternal) vertx).removeCloseHook(closeHook);
    closeHook = null;
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return unregistered.recover(e -> Future.succeededFuture()).transform(ignored -> {
      if (coordinatorId == null) {
        return Future.succeededFuture();
      }
      ServiceDirectory.uninstall(vertx, environment, coordinator);
      String id = coordinatorId;
      coordinatorId = null;
      return vertx.undeploy(id).recover(e -> Future.succeededFuture());
    });
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    vertx.cancelTimer(loadTimer);
    Future<Void> left = Future.succeededFuture();
    if (joined) {
      left = onAgent(coordinator.leave(nodeId)).recover(e -> {
        if (e instanceof HazelcastInstanceNotActiveException) {
          LOG.info("Node agent {}: this node had left the cluster already; the oldest member re-places its replicas",
            nodeId);
        } else {
          LOG.warn("Node agent {}: re-placing this node's replicas before leaving failed", nodeId, e);
        }
        return Future.succeededFuture();
      });
    }
    return left.transform(x -> drainAndStop()).eventually(() -> {
      if (closeHook != null) {
        ((VertxInternal) vertx).removeCloseHook(closeHook);
      }
      if (coordinatorId == null) {
        return Future.succeededFuture();
      }
      ServiceDirectory.uninstall(vertx, environment, coordinator);
      return vertx.undeploy(coordinatorId).recover(e -> Future.succeededFuture());
    });
  }

  private Future<Void> drainAndStop() {
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    List<Future<?>> pending = new ArrayList<>(tails.values());
    return unregistered.transform(ignored -> Future.join(pending))
      .transform(ignored -> {
        List<Future<?>> undeploys = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : running.entrySet()) {
          undeploys.add(leaveAndUndeploy(e.getKey(), e.getValue()));
        }
        running.clear();
        return Future.join(undeploys);
      })
      .mapEmpty();
  }

  private void handle(Message<Object> message) {
    AtomicBoolean answered = new AtomicBoolean();
    try {
      dispatch(message, answered);
    } catch (Throwable t) {
      // Not message.body(): a body that could not be read throws again there (a refused Java-serialized one).
      LOG.error("Node agent {}: a request failed", nodeId, t);
      failOnce(message, answered, FailureCode.SERVICE_ERROR, t.getClass().getName(),
        "Node agent " + nodeId + " failed on this request: " + t, Protocol.stackOf(t));
    }
  }

  private void dispatch(Message<Object> message, AtomicBoolean answered) {
    Object raw;
    try {
      raw = message.body();
    } catch (RuntimeException e) {
      refuse(message, answered, "the request body cannot be read (only JSON is accepted; Java serialization is "
        + "refused): " + e);
      return;
    }
    if (!(raw instanceof JsonObject body)) {
      refuse(message, answered, "the request must be a JSON object {\"action\": \"deploy\"|\"undeploy\"|\"list\", ...}");
      return;
    }
    if (stopping) {
      failOnce(message, answered, FailureCode.STOPPING, FailureCode.STOPPING.name(),
        "Node agent " + nodeId + " is stopping", new JsonArray());
      return;
    }
    Object action = body.getValue("action");
    if ("list".equals(action)) {
      replyOnce(message, answered, list());
      return;
    }
    if (!"deploy".equals(action) && !"undeploy".equals(action)) {
      refuse(message, answered, "unknown action " + shorten(action) + ": use \"deploy\", \"undeploy\" or \"list\"");
      return;
    }
    Object service = body.getValue("service");
    if (!(service instanceof String name) || !catalog.containsKey(name)) {
      refuse(message, answered, "service " + shorten(service) + " is not in the catalogue of node " + nodeId
        + " (it has " + catalog.keySet() + "); requests name catalogue entries, never classes");
      return;
    }
    // deploy: 1 by default; undeploy: every replica by default.
    Object rawInstances = body.getValue("instances", "deploy".equals(action) ? 1 : MAX_INSTANCES_PER_REQUEST);
    if (!(rawInstances instanceof Integer instances) || instances < 1 || instances > MAX_INSTANCES_PER_REQUEST) {
      refuse(message, answered, "\"instances\" must be an integer from 1 to " + MAX_INSTANCES_PER_REQUEST
        + ", got " + shorten(rawInstances));
      return;
    }
    String versionKey = "deploy".equals(action) ? "version" : "keepVersion";
    Object rawVersion = body.getValue(versionKey);
    if (rawVersion != null && (!(rawVersion instanceof Integer v) || v < 0)) {
      refuse(message, answered, "\"" + versionKey + "\" must be an integer of 0 or more, got " + shorten(rawVersion));
      return;
    }
    Integer version = (Integer) rawVersion;
    Future<JsonObject> result;
    if ("deploy".equals(action)) {
      result = serialize(name, () -> deploy(catalog.get(name), instances, version == null ? 0 : version));
    } else if (body.containsKey("instances")) {
      result = serialize(name, () -> undeploy(name, instances, version));
    } else {
      result = serialize(name, () -> undeploy(name, Integer.MAX_VALUE, version));
    }
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        replyOnce(message, answered, ar.result());
      } else {
        Throwable t = ar.cause();
        failOnce(message, answered, FailureCode.SERVICE_ERROR, t.getClass().getName(),
          "Node agent " + nodeId + ": " + action + " of service '" + name + "' failed: " + t.getMessage(),
          Protocol.stackOf(t));
      }
    });
  }

  /** Runs {@code op} after the operations already under way on the same service. */
  private <T> Future<T> serialize(String service, Supplier<Future<T>> op) {
    Future<?> tail = tails.getOrDefault(service, Future.succeededFuture());
    Future<T> next = tail.transform(ignored -> {
      try {
        return op.get();
      } catch (Throwable t) {
        return Future.failedFuture(t);
      }
    });
    tails.put(service, next);
    next.onComplete(ignored -> tails.remove(service, next));
    return next;
  }

  private Future<JsonObject> deploy(ServiceDefinition entry, int instances, int version) {
    List<ServiceTaskVerticle> tasks = new ArrayList<>(instances);
    for (int i = 0; i < instances; i++) {
      tasks.add(new ServiceTaskVerticle(environment, entry.name(), entry.factory(), instanceCounter++, entry.options()));
    }
    return onAgent(Deployments.deployAllOrNone(vertx, tasks,
        new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)))
      .transform(ar -> {
        if (ar.failed()) {
          LOG.warn("Node agent {}: a replica of '{}' failed to start; the others started by this request were "
            + "undeployed", nodeId, entry.name(), ar.cause());
          return Future.failedFuture(ar.cause());
        }
        List<String> ids = running.computeIfAbsent(entry.name(), k -> new ArrayList<>());
        ids.addAll(ar.result());
        for (int i = 0; i < tasks.size(); i++) {
          taskById.put(ar.result().get(i), tasks.get(i));
          versionById.put(ar.result().get(i), version);
        }
        LOG.info("Node agent {}: deployed {} replica(s) of '{}' (version {}), {} running", nodeId, instances,
          entry.name(), version, ids.size());
        return Future.succeededFuture(new JsonObject().put("service", entry.name()).put("deployed", instances)
          .put("running", ids.size()));
      });
  }

  /**
   * Undeploys up to {@code count} replicas of a service: those deployed last, or with {@code keepVersion}
   * those of other versions, deployed first first.
   */
  private Future<JsonObject> undeploy(String service, int count, Integer keepVersion) {
    List<String> all = running.getOrDefault(service, List.of());
    List<String> ids;
    if (keepVersion == null) {
      ids = new ArrayList<>(all.subList(Math.max(0, all.size() - count), all.size()));
    } else {
      ids = all.stream().filter(id -> !keepVersion.equals(versionById.get(id))).limit(count).toList();
    }
    int left = all.size() - ids.size();
    if (ids.isEmpty()) {
      return Future.succeededFuture(new JsonObject().put("service", service).put("undeployed", 0).put("running", left));
    }
    all.removeAll(ids);
    if (left == 0) {
      running.remove(service);
      return leaveAndUndeploy(service, ids).map(x -> {
        LOG.info("Node agent {}: undeployed {} replica(s) of '{}'", nodeId, ids.size(), service);
        return new JsonObject().put("service", service).put("undeployed", ids.size()).put("running", 0);
      });
    }
    // Replicas of the service stay here: every member keeps routing the address to this node, where they serve
    // what the leaving ones refuse (LEAVING) or Vert.x discards as their consumers go; both are sent again.
    List<ServiceTaskVerticle> leaving = new ArrayList<>();
    for (String id : ids) {
      ServiceTaskVerticle task = taskById.get(id);
      if (task != null) {
        task.leave();
        leaving.add(task);
      }
    }
    List<Future<?>> undeploys = new ArrayList<>();
    for (String id : ids) {
      undeploys.add(undeployQuietly(service, id));
    }
    return Future.join(undeploys).map(x -> {
      int refused = leaving.stream().mapToInt(ServiceTaskVerticle::refusedLeaving).sum();
      LOG.info("Node agent {}: undeployed {} replica(s) of '{}' ({} call(s) refused while leaving and sent elsewhere), "
        + "{} running", nodeId, ids.size(), service, refused, left);
      return new JsonObject().put("service", service).put("undeployed", ids.size()).put("running", left);
    });
  }

  /**
   * A planned leave of a service's replicas on this node: they refuse every call that reaches them
   * (LEAVING: the caller sends it to another replica), this node's registrations of the service's
   * address leave the cluster's subscription map while the consumers stay, so that calls still routed
   * here by another member's view are answered rather than lost; once no call has reached them for
   * {@link #LEAVE_QUIET_MS} (and at least {@link #LEAVE_MIN_MS}, at most {@link #LEAVE_MAX_MS}), they are
   * undeployed. Never fails.
   */
  private Future<Void> leaveAndUndeploy(String service, List<String> ids) {
    List<ServiceTaskVerticle> leaving = new ArrayList<>();
    for (String id : ids) {
      ServiceTaskVerticle task = taskById.get(id);
      if (task != null) {
        task.leave();
        leaving.add(task);
      }
    }
    long started = System.nanoTime();
    Future<Void> quiet = vertx.isClustered() ? withdraw(service).transform(ar -> {
      if (ar.failed()) {
        LOG.warn("Node agent {}: withdrawing the registrations of '{}' from the cluster failed; its replicas stop after "
          + "the quiet time anyway", nodeId, service, ar.cause());
      }
      return awaitQuiet(leaving, started);
    }) : Future.succeededFuture();
    return quiet.transform(ignored -> {
      int refused = leaving.stream().mapToInt(ServiceTaskVerticle::refusedLeaving).sum();
      LOG.info("Node agent {}: {} replica(s) of '{}' leaving: {} call(s) refused and sent elsewhere in {} ms; "
        + "undeploying", nodeId, ids.size(), service, refused, (System.nanoTime() - started) / 1_000_000);
      List<Future<?>> undeploys = new ArrayList<>();
      for (String id : ids) {
        undeploys.add(undeployQuietly(service, id));
      }
      return Future.join(undeploys).mapEmpty();
    });
  }

  /**
   * Removes this node's registrations of a service's address from the cluster's subscription map,
   * leaving the consumers registered here: the other members stop routing calls to this node as their
   * views catch up, and the calls they still route here meet a consumer that answers them.
   */
  private Future<Void> withdraw(String service) {
    ClusterManager cluster = ((VertxInternal) vertx).clusterManager();
    String serviceAddress = Protocol.serviceAddress(environment, service);
    String me = cluster.getNodeId();
    Promise<List<RegistrationInfo>> registrations = Promise.promise();
    cluster.getRegistrations(serviceAddress, registrations);
    return onAgent(registrations.future()).compose(list -> {
      List<Future<?>> removals = new ArrayList<>();
      for (RegistrationInfo info : list) {
        if (me.equals(info.nodeId()) && !info.localOnly()) {
          Promise<Void> removed = Promise.promise();
          cluster.removeRegistration(serviceAddress, info, removed);
          removals.add(removed.future());
        }
      }
      return onAgent(Future.all(removals)).mapEmpty();
    });
  }

  /** Completes once the leaving tasks were refusing for a while with no call reaching them (or after the longest wait). */
  private Future<Void> awaitQuiet(List<ServiceTaskVerticle> leaving, long started) {
    Promise<Void> quiet = ((ContextInternal) context).promise();
    int[] refused = {-1};
    long[] changed = {System.nanoTime()};
    vertx.setPeriodic(LEAVE_POLL_MS, id -> {
      long now = System.nanoTime();
      int count = leaving.stream().mapToInt(ServiceTaskVerticle::refusedLeaving).sum();
      if (count != refused[0]) {
        refused[0] = count;
        changed[0] = now;
      }
      long since = (now - started) / 1_000_000;
      if ((since >= LEAVE_MIN_MS && (now - changed[0]) / 1_000_000 >= LEAVE_QUIET_MS) || since >= LEAVE_MAX_MS) {
        vertx.cancelTimer(id);
        quiet.tryComplete();
      }
    });
    return quiet.future();
  }

  private Future<Void> undeployQuietly(String service, String deploymentId) {
    taskById.remove(deploymentId);
    versionById.remove(deploymentId);
    return onAgent(vertx.undeploy(deploymentId)).recover(t -> {
      LOG.warn("Node agent {}: undeploying a replica of '{}' ({}) failed", nodeId, service, deploymentId, t);
      return Future.succeededFuture();
    });
  }

  /**
   * Publishes the calls this node's replicas run and hold queued, per service, for the oldest
   * member's autoscaling ({@link io.sagebus.AutoscalePolicy}).
   */
  private void publishLoad() {
    if (stopping) {
      return;
    }
    JsonObject services = new JsonObject();
    running.forEach((service, ids) -> {
      int inFlight = 0;
      int queued = 0;
      for (String id : ids) {
        ServiceTaskVerticle task = taskById.get(id);
        if (task != null) {
          inFlight += task.inFlight();
          queued += task.queued();
        }
      }
      services.put(service, new JsonObject().put("replicas", ids.size()).put("inFlight", inFlight).put("queued", queued));
    });
    coordinator.publishLoad(nodeId, new JsonObject().put("node", nodeId).put("member", coordinator.member())
        .put("services", services))
      .onFailure(e -> LOG.debug("Node agent {}: publishing its load failed", nodeId, e));
  }

  /** {@return the same outcome, reported on the agent's context, where its state is kept} */
  private <T> Future<T> onAgent(Future<T> future) {
    Promise<T> promise = ((ContextInternal) context).promise();
    future.onComplete(promise);
    return promise.future();
  }

  private JsonObject list() {
    JsonObject services = new JsonObject();
    JsonObject versions = new JsonObject();
    for (String name : catalog.keySet()) {
      List<String> ids = running.get(name);
      services.put(name, ids == null ? 0 : ids.size());
      if (ids != null && !ids.isEmpty()) {
        JsonObject byVersion = new JsonObject();
        for (String id : ids) {
          String version = String.valueOf(versionById.getOrDefault(id, 0));
          byVersion.put(version, byVersion.getInteger(version, 0) + 1);
        }
        versions.put(name, byVersion);
      }
    }
    return new JsonObject().put("node", nodeId).put("services", services).put("versions", versions);
  }

  private void refuse(Message<Object> message, AtomicBoolean answered, String why) {
    String text = "Node agent " + nodeId + " refused the request: " + why;
    String request;
    try {
      request = shorten(message.body());
    } catch (RuntimeException unreadable) {
      request = "a body that cannot be read";
    }
    LOG.warn("{} (request: {})", text, request);
    failOnce(message, answered, FailureCode.BAD_REQUEST, FailureCode.BAD_REQUEST.name(), text, new JsonArray());
  }

  private static void replyOnce(Message<Object> message, AtomicBoolean answered, JsonObject reply) {
    if (answered.compareAndSet(false, true)) {
      message.reply(reply);
    }
  }

  private static void failOnce(Message<Object> message, AtomicBoolean answered, FailureCode code, String type,
                               String text, JsonArray stack) {
    if (answered.compareAndSet(false, true)) {
      Protocol.fail(message, code, type, text, stack);
    }
  }

  /** Message content for logs and answers: quoted, escaped (no line breaks) and cut short. */
  private static String shorten(Object value) {
    if (value == null) {
      return "null";
    }
    String text = value instanceof String s ? new JsonArray().add(s).encode() : String.valueOf(value);
    if (value instanceof String) {
      text = text.substring(1, text.length() - 1);
    }
    text = text.replaceAll("[\\p{Cntrl}]", "?");
    return text.length() > MAX_LOGGED_CHARS ? text.substring(0, MAX_LOGGED_CHARS) + "...(" + text.length() + " chars)"
      : text;
  }
}
