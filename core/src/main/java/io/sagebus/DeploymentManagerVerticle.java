package io.sagebus;

import io.sagebus.impl.Deployments;
import io.sagebus.impl.Protocol;
import io.sagebus.impl.pipeline.JobImpl;
import io.sagebus.impl.pipeline.LogicalNode;
import io.sagebus.impl.pipeline.PipelineCompiler;
import io.sagebus.impl.ServiceDefinition;
import io.sagebus.impl.ServicePlacement;
import io.sagebus.impl.ServiceRegistry;
import io.vertx.core.Closeable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The deployment manager of one environment: it holds the environment's registered services
 * and deploys, undeploys, lists and reports them on request.
 * <p>
 * Registration is a method call in the JVM ({@link #registerService(String, Class, ServiceOptions)}
 * and its variants), because a class or a supplier never travels on the bus. Everything else is
 * asked over the event bus, on the local-only address {@code sagebus.<env>.manager}, with JSON
 * that names services, never classes:
 * <ul>
 *   <li>{@code {"action": "deploy", "service": name}}: deploys the service's instances
 *       (virtual-thread {@link ServiceTaskVerticle}s); answers {@code {"service", "instances"}}
 *       once every consumer is registered. When one instance fails to start, the others are
 *       undeployed again and the request fails. Deploying a running service does nothing. An
 *       optional {@code "owner"} (default {@code "user"}) records who needs the service: a job
 *       names itself, so that its services stop when it ends.</li>
 *   <li>{@code {"action": "release", "owner": owner}}: the owner no longer needs its services;
 *       those that no other owner holds are undeployed.</li>
 *   <li>{@code {"action": "undeploy", "service": name}}: undeploys them, each draining as
 *       {@link ServiceTaskVerticle} describes.</li>
 *   <li>{@code {"action": "list"}}: answers {@code {"services": [{"name", "type", "running",
 *       "options"}]}}.</li>
 *   <li>{@code {"action": "stats", "service": name}}: answers {@link ServiceStats#toJson()}.</li>
 *   <li>{@code {"action": "start", "service": name}}: what a call that found no instance asks: a
 *       deploying service is waited for; one that nothing deployed is deployed for the user, or,
 *       when {@link EnvironmentOptions#isStartOnCall()} is off, refused with {@link FailureCode#NOT_STARTED}.</li>
 * </ul>
 * Failures are answered with {@code message.fail(code, json)}, code
 * {@link FailureCode#BAD_REQUEST} for a bad message or an unregistered name and
 * {@link FailureCode#SERVICE_ERROR} for a failed deployment.
 * <p>
 * {@link LocalEnvironment} creates and deploys one. Code that owns a Vertx may do the same:
 * <pre>{@code
 * DeploymentManagerVerticle manager = new DeploymentManagerVerticle("shop", new EnvironmentOptions());
 * manager.registerService("echo", EchoService.class, new ServiceOptions());
 * vertx.deployVerticle(manager).await();
 * vertx.eventBus().request(DeploymentManagerVerticle.address("shop"),
 *     new JsonObject().put("action", "deploy").put("service", "echo")).await();
 * String reply = ServiceClient.create(vertx, "shop").call("echo", "hi");
 * }</pre>
 * Undeploying the manager undeploys every service it deployed.
 * <p>
 * In a cluster ({@code io.sagebus.cluster.ClusterEnvironment}), services registered by class are
 * deployed by the cluster's placement on the nodes whose catalogues hold them, not in this JVM;
 * the actions above are the same.
 */
public final class DeploymentManagerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(DeploymentManagerVerticle.class);
  /** The owner of deployments asked for without one: the user, who also undeploys them. */
  private static final String USER = "user";
  /** Deploys may run user setup code that blocks; requests to the manager wait this long. */
  static final long MANAGER_TIMEOUT_MS = 10 * 60 * 1000L;

  private final ServiceRegistry registry;
  private final Map<String, Deployed> deployed = new HashMap<>();
  /** Finished jobs kept for {@link #jobs()}: the most recent ones. */
  static final int MAX_FINISHED_JOBS = 100;

  private final Map<String, JobImpl> jobs = new ConcurrentHashMap<>();
  /** Running and recently finished jobs, oldest first; guarded by itself. */
  private final Map<String, JobImpl> known = new LinkedHashMap<>();
  private int finishedCount;
  private final Set<String> pipelineServices = ConcurrentHashMap.newKeySet();
  private final AtomicLong jobCounter = new AtomicLong();
  private MessageConsumer<JsonObject> consumer;
  private ServicePlacement placement;
  private long consumerKey;
  private Closeable closeHook;

  /**
   * A manager for an environment.
   *
   * @param environment the environment name: letters, digits, {@code _} and {@code -}
   * @param options     the environment's default timeouts (copied)
   * @throws IllegalArgumentException when the name is malformed
   */
  public DeploymentManagerVerticle(String environment, EnvironmentOptions options) {
    this(new ServiceRegistry(environment, options == null ? new EnvironmentOptions() : options));
  }

  DeploymentManagerVerticle(ServiceRegistry registry) {
    this.registry = registry;
  }

  /**
   * {@return the event-bus address of its deployment manager}
   *
   * @param environment an environment name
   */
  public static String address(String environment) {
    return Protocol.managerAddress(environment);
  }

  /**
   * {@return the environment's name}
   */
  public String environment() {
    return registry.environment();
  }

  /**
   * Compiles the operators built since the last submit, and runs them as a job: the job's
   * services are deployed (owned by the job), then its operators.
   */
  Future<Job> submit(List<LogicalNode> nodes, JobOptions options, ServiceClient client) {
    PipelineCompiler.ExecutionGraph graph;
    try {
      graph = PipelineCompiler.compile(nodes, registry, options == null ? new JobOptions() : options);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    String prefix = placement == null ? registry.environment() : placement.jobIdPrefix(registry.environment());
    String id = prefix + "-job-" + jobCounter.incrementAndGet();
    JobImpl job = new JobImpl(id, vertx, client, new JobLease(), graph, this::finished);
    jobs.put(id, job);
    synchronized (known) {
      known.put(id, job);
    }
    return job.start().onFailure(e -> finished(job));
  }

  /** Moves a job from the running ones to the finished ones, forgetting the oldest finished beyond the bound. */
  private void finished(JobImpl job) {
    if (jobs.remove(job.id()) == null) {
      return;
    }
    synchronized (known) {
      finishedCount++;
      Iterator<JobImpl> it = known.values().iterator();
      while (finishedCount > MAX_FINISHED_JOBS && it.hasNext()) {
        JobImpl j = it.next();
        if (!jobs.containsKey(j.id())) {
          it.remove();
          finishedCount--;
        }
      }
    }
  }

  /**
   * {@return the running jobs and the last {@value #MAX_FINISHED_JOBS} finished ones, in the order they were submitted}
   */
  List<Job> jobs() {
    synchronized (known) {
      return List.copyOf(known.values());
    }
  }

  /**
   * {@return the job of that id, when it runs or is among the last finished ones, else {@code null}}
   *
   * @param id a job id
   */
  Job job(String id) {
    synchronized (known) {
      return known.get(id);
    }
  }

  /** Deploys and releases a job's services through this manager's own bus actions. */
  private final class JobLease implements JobImpl.ServiceLease {
    @Override
    public Future<Void> acquire(String jobId) {
      List<Future<Object>> deploys = new ArrayList<>();
      for (String name : registry.names()) {
        if (pipelineServices.contains(name)) {
          continue;
        }
        deploys.add(vertx.eventBus().request(address(registry.environment()),
          new JsonObject().put("action", "deploy").put("service", name).put("owner", jobId),
          new DeliveryOptions().setSendTimeout(MANAGER_TIMEOUT_MS)).map(m -> m.body()));
      }
      return Future.all(deploys).mapEmpty();
    }

    @Override
    public Future<Void> release(String jobId) {
      return vertx.eventBus().request(address(registry.environment()),
        new JsonObject().put("action", "release").put("owner", jobId),
        new DeliveryOptions().setSendTimeout(MANAGER_TIMEOUT_MS)).mapEmpty();
    }
  }

  ServiceRegistry registry() {
    return registry;
  }

  /**
   * Registers a service class; see {@link Environment#registerService(String, Class, ServiceOptions)}.
   *
   * @param name    the service name
   * @param type    the service class
   * @param options its options, or {@code null} for the defaults (copied)
   * @return this
   * @throws IllegalArgumentException when the name is malformed or taken, or the class cannot be instantiated
   */
  public DeploymentManagerVerticle registerService(String name, Class<?> type, ServiceOptions options) {
    registry.register(ServiceDefinition.ofClass(name, type, options));
    return this;
  }

  /**
   * Registers a class annotated with {@link SagebusService}.
   *
   * @param type    the service class
   * @param options its options, or {@code null} for the defaults (copied)
   * @return this
   * @throws IllegalArgumentException when it has no annotation, or as {@link #registerService(String, Class, ServiceOptions)}
   */
  public DeploymentManagerVerticle registerService(Class<?> type, ServiceOptions options) {
    registry.register(ServiceDefinition.ofAnnotated(type, options));
    return this;
  }

  /**
   * Registers a factory; see {@link Environment#registerService(String, Supplier, ServiceOptions)}.
   *
   * @param name    the service name
   * @param factory creates one service object per instance
   * @param options its options, or {@code null} for the defaults (copied)
   * @return this
   * @throws IllegalArgumentException when the name is malformed or taken, or the factory is null
   */
  public DeploymentManagerVerticle registerService(String name, Supplier<?> factory, ServiceOptions options) {
    registry.register(ServiceDefinition.ofSupplier(name, factory, options));
    return this;
  }

  /**
   * Registers a pipeline served as a service: like a supplier registration, and its jobs do not
   * deploy pipeline services (one would wait for itself).
   */
  void registerPipelineService(String name, Supplier<?> factory, ServiceOptions options) {
    registry.register(ServiceDefinition.ofSupplier(name, factory, options));
    pipelineServices.add(name);
  }

  /**
   * {@return the registered service names, sorted}
   */
  public List<String> registeredServices() {
    return registry.names();
  }

  @Override
  public Future<?> start() {
    registry.install(vertx);
    placement = ServicePlacement.lookup(vertx, registry.environment());
    registry.startsOnCall(placement == null);
    // Closing the Vertx undeploys every top-level deployment at once, this manager and its service tasks
    // alike, while this manager's stop undeploys those tasks too: one side then fails with "Already
    // undeployed" or "Unknown deployment". Close hooks run before that, so the hook undeploys the manager
    // first, and the manager stops its jobs and services in its own order.
    String deploymentId = context.deploymentID();
    closeHook = completion -> vertx.undeploy(deploymentId).onComplete(ar -> {
      if (ar.failed()) {
        LOG.debug("Undeploying the deployment manager of '{}' on close", registry.environment(), ar.cause());
      }
      completion.succeed();
    });
    ((VertxInternal) vertx).addCloseHook(closeHook);
    consumer = vertx.eventBus().localConsumer(address(registry.environment()), this::handle);
    consumerKey = registry.tracker().opened("consumer", address(registry.environment()));
    return consumer.completion();
  }

  private void handle(Message<JsonObject> message) {
    JsonObject body = message.body();
    String action = body == null ? null : body.getString("action");
    String service = body == null ? null : body.getString("service");
    String owner = body == null ? null : body.getString("owner", USER);
    if ("list".equals(action)) {
      message.reply(list());
      return;
    }
    if ("release".equals(action)) {
      release(owner).onComplete(ar -> message.reply(new JsonObject().put("owner", owner).put("undeployed", ar.result())));
      return;
    }
    if (!"deploy".equals(action) && !"undeploy".equals(action) && !"stats".equals(action) && !"start".equals(action)) {
      Protocol.fail(message, FailureCode.BAD_REQUEST, "BadRequest", "Unknown action '" + action
        + "': use deploy, undeploy, release, list, stats or start", new JsonArray());
      return;
    }
    ServiceRegistry.Registration reg = service == null ? null : registry.get(service);
    if (reg == null) {
      Protocol.fail(message, FailureCode.BAD_REQUEST, ServiceNotFoundException.class.getName(),
        "No service '" + service + "' is registered; registered: " + registry.names(), new JsonArray());
      return;
    }
    switch (action) {
      case "deploy" -> deploy(reg, owner).onComplete(ar -> {
        if (ar.succeeded()) {
          message.reply(new JsonObject().put("service", service).put("instances", ar.result()));
        } else {
          Protocol.fail(message, FailureCode.SERVICE_ERROR, ar.cause().getClass().getName(),
            String.valueOf(ar.cause().getMessage()), Protocol.stackOf(ar.cause()));
        }
      });
      case "start" -> startOnCall(reg).onComplete(ar -> {
        if (ar.succeeded()) {
          message.reply(new JsonObject().put("service", service).put("instances", ar.result()));
        } else if (ar.cause() instanceof NotStarted) {
          Protocol.fail(message, FailureCode.NOT_STARTED, FailureCode.NOT_STARTED.name(), ar.cause().getMessage(),
            new JsonArray());
        } else {
          Protocol.fail(message, FailureCode.SERVICE_ERROR, ar.cause().getClass().getName(),
            String.valueOf(ar.cause().getMessage()), Protocol.stackOf(ar.cause()));
        }
      });
      case "undeploy" -> undeploy(service).onComplete(ar ->
        message.reply(new JsonObject().put("service", service).put("undeployed", ar.result())));
      default -> message.reply(stats(reg).toJson());
    }
  }

  private Future<Integer> deploy(ServiceRegistry.Registration reg, String owner) {
    String name = reg.definition().name();
    Deployed existing = deployed.get(name);
    if (existing != null) {
      existing.owners.add(owner);
      return existing.ready;
    }
    Deployed d = new Deployed();
    d.owners.add(owner);
    deployed.put(name, d);
    if (placement != null && placement.places(reg.definition())) {
      d.placed = true;
      d.ready = placement.deploy(reg.definition()).recover(e -> {
        deployed.remove(name, d);
        return Future.failedFuture(e);
      });
      return d.ready;
    }
    int n = reg.definition().options().getInstances();
    List<ServiceTaskVerticle> tasks = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      tasks.add(new ServiceTaskVerticle(registry.environment(), reg.definition(), i, reg.metrics(), registry));
    }
    d.tasks.addAll(tasks);
    d.ready = Deployments.deployAllOrNone(vertx, tasks,
        new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD))
      .transform(ar -> {
        if (ar.succeeded()) {
          d.ids.addAll(ar.result());
          LOG.debug("Deployed service '{}' in environment '{}': {} instance(s)", name, registry.environment(), n);
          return Future.succeededFuture(n);
        }
        deployed.remove(name, d);
        LOG.warn("Deploying service '{}' failed; the instances that started were undeployed", name, ar.cause());
        return Future.failedFuture(ar.cause());
      });
    return d.ready;
  }

  /**
   * A call found no instance of a registered service: one that is deploying is waited for; one
   * that nothing deployed starts now, for the user (as {@code deploy} would), unless the environment
   * does not start services on their first call.
   */
  private Future<Integer> startOnCall(ServiceRegistry.Registration reg) {
    Deployed existing = deployed.get(reg.definition().name());
    if (existing != null) {
      return existing.ready;
    }
    if (!registry.options().isStartOnCall()) {
      return Future.failedFuture(new NotStarted("Service '" + reg.definition().name() + "' is registered but not "
        + "running, and this environment does not start services on their first call: call env.start() or env.deploy(\""
        + reg.definition().name() + "\") first"));
    }
    return deploy(reg, USER);
  }

  /** The environment does not start services on their first call. */
  private static final class NotStarted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotStarted(String message) {
      super(message, null, false, false);
    }
  }

  /** Removes an owner from every service it holds; undeploys those nobody holds any more. */
  private Future<Integer> release(String owner) {
    List<Future<Integer>> undeploys = new ArrayList<>();
    for (Map.Entry<String, Deployed> e : new ArrayList<>(deployed.entrySet())) {
      if (e.getValue().owners.remove(owner) && e.getValue().owners.isEmpty()) {
        undeploys.add(e.getValue().ready.transform(ar -> undeploy(e.getKey())));
      }
    }
    return Future.join(undeploys).transform(ar -> Future.succeededFuture(undeploys.size()));
  }

  private Future<Integer> undeploy(String service) {
    Deployed d = deployed.remove(service);
    if (d == null) {
      return Future.succeededFuture(0);
    }
    if (d.placed) {
      return d.ready.transform(ar -> placement.undeploy(service));
    }
    // A deploy under way finishes first, so that no instance starts after its service was undeployed.
    return d.ready.transform(ar -> Deployments.undeployAll(vertx, d.ids).map(v -> d.ids.size()));
  }

  private JsonObject list() {
    JsonArray services = new JsonArray();
    for (String name : registry.names()) {
      ServiceRegistry.Registration reg = registry.get(name);
      Deployed d = deployed.get(name);
      services.add(new JsonObject()
        .put("name", name)
        .put("type", reg.definition().typeName())
        .put("running", d == null ? 0 : d.placed ? placement.placed(name) : d.ids.size())
        .put("options", reg.definition().options().toJson()));
    }
    return new JsonObject().put("services", services);
  }

  private ServiceStats stats(ServiceRegistry.Registration reg) {
    Deployed d = deployed.get(reg.definition().name());
    int inFlight = 0;
    int queued = 0;
    int running = 0;
    if (d != null) {
      running = d.placed ? placement.placed(reg.definition().name()) : d.ids.size();
      for (ServiceTaskVerticle t : d.tasks) {
        inFlight += t.inFlight();
        queued += t.queued();
      }
    }
    return reg.metrics().snapshot(reg.definition().name(), running, inFlight, queued);
  }

  @Override
  public Future<?> stop() {
    ((VertxInternal) vertx).removeCloseHook(closeHook);
    List<Future<JobResult>> cancels = new ArrayList<>();
    for (JobImpl job : List.copyOf(jobs.values())) {
      cancels.add(job.cancel());
    }
    return Future.join(cancels).transform(ar -> stopServices());
  }

  private Future<?> stopServices() {
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return unregistered.eventually(() -> {
      registry.tracker().closed(consumerKey);
      List<Future<Integer>> all = new ArrayList<>();
      for (String name : new ArrayList<>(deployed.keySet())) {
        all.add(undeploy(name));
      }
      return Future.join(all);
    }).eventually(() -> {
      registry.uninstall(vertx);
      return Future.succeededFuture();
    });
  }

  /** The instances of one deployed service. */
  private static final class Deployed {
    final List<ServiceTaskVerticle> tasks = new ArrayList<>();
    final List<String> ids = new ArrayList<>();
    final Set<String> owners = new HashSet<>();
    /** Deployed by the environment's {@link ServicePlacement}, not as tasks of this JVM. */
    boolean placed;
    Future<Integer> ready;
  }
}
