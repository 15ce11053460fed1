package io.sagebus.impl.env;

import io.sagebus.BatchFunction;
import io.sagebus.DataStream;
import io.sagebus.Environment;
import io.sagebus.EnvironmentOptions;
import io.sagebus.FailureCode;
import io.sagebus.Job;
import io.sagebus.JobOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.PipelineNotFoundException;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceDeploymentException;
import io.sagebus.ServiceNotFoundException;
import io.sagebus.ServiceOptions;
import io.sagebus.SourceFunction;

import io.sagebus.impl.Json;
import io.sagebus.impl.call.ServiceClientImpl;
import io.sagebus.impl.pipeline.CollectionBatch;
import io.sagebus.impl.pipeline.LogicalNode;
import io.sagebus.impl.pipeline.PipelineBuilder;
import io.sagebus.impl.job.PipelineService;
import io.sagebus.impl.registry.ServiceDefinition;
import io.sagebus.impl.registry.ServiceRegistry;
import io.sagebus.impl.wire.Protocol;
import io.sagebus.spi.ClusterSupport;
import io.sagebus.ops.SagebusMetrics;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A {@link LocalEnvironment}: its {@link EnvironmentManager} (jobs and service deployments) in one
 * Vertx, talked to over the bus; in a cluster, created with the cluster's {@link ClusterSupport}.
 */
public final class LocalEnvironmentImpl implements LocalEnvironment {

  private static final Logger LOG = LoggerFactory.getLogger(LocalEnvironmentImpl.class);


  private final Vertx vertx;
  private final boolean ownsVertx;
  private final String name;
  private final EnvironmentManager manager;
  private final ServiceRegistry registry;
  private final ServiceClientImpl client;
  private final Future<String> managerDeployment;
  private final PipelineBuilder pipelines = new PipelineBuilder();
  /** Named pipelines, by name (sorted). */
  private final ConcurrentSkipListMap<String, Consumer<Environment>> named = new ConcurrentSkipListMap<>();
  /** The builder of a named pipeline being built on this thread, so its operators stay apart from others. */
  private final ThreadLocal<PipelineBuilder> building = new ThreadLocal<>();
  private Future<Void> closing;

  private LocalEnvironmentImpl(Vertx vertx, boolean ownsVertx, String name, EnvironmentOptions options,
                               ClusterSupport cluster) {
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.name = name;
    this.registry = new ServiceRegistry(name, options, cluster == null ? null : cluster.directory());
    this.manager = new EnvironmentManager(registry, cluster == null ? null : cluster.placement());
    this.client = ServiceClientImpl.forRegistry(vertx, registry);
    registry.install(vertx);
    this.managerDeployment = vertx.deployVerticle(manager, new DeploymentOptions());
    // Builds Sagebus's Jackson mapper now, with the engine (about 0.1 s in a cold JVM), not in the first job's first
    // service start or call.
    Json.mapper();
  }

  /**
   * {@return a single-JVM environment}
   *
   * @param vertx   a Vertx the caller owns, or {@code null} to create one owned by the environment
   * @param name    the environment name
   * @param options its options
   */
  public static LocalEnvironmentImpl create(Vertx vertx, String name, EnvironmentOptions options) {
    ServiceDefinition.checkName("environment", name);
    EnvironmentOptions opts = options == null ? new EnvironmentOptions() : options;
    if (vertx != null) {
      return new LocalEnvironmentImpl(vertx, false, name, opts, null);
    }
    // Netty's native transport (epoll, io_uring) when the application carries its jar (README "Native transport"); NIO otherwise.
    VertxOptions vertxOptions = new VertxOptions().setPreferNativeTransport(true);
    Vertx own = opts.isMetricsEnabled() ? SagebusMetrics.vertxBuilder(vertxOptions).build()
      : Vertx.builder().with(vertxOptions).build();
    try {
      return new LocalEnvironmentImpl(own, true, name, opts, null);
    } catch (RuntimeException e) {
      own.close();
      throw e;
    }
  }

  /**
   * {@return the local part of a cluster environment: services it places run on the cluster's nodes,
   * calls to services registered elsewhere wait for their replicas}
   *
   * @param vertx   the clustered Vertx (owned by the caller)
   * @param name    the environment name
   * @param options its options
   * @param cluster what the cluster provides
   */
  public static LocalEnvironmentImpl create(Vertx vertx, String name, EnvironmentOptions options,
                                            ClusterSupport cluster) {
    ServiceDefinition.checkName("environment", name);
    return new LocalEnvironmentImpl(Objects.requireNonNull(vertx, "vertx"), false, name,
      options == null ? new EnvironmentOptions() : options, Objects.requireNonNull(cluster, "cluster"));
  }

  /**
   * {@return the environment's services: registrations announce themselves to {@link ServiceRegistry#onRegister}}
   */
  public ServiceRegistry registry() {
    return registry;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Vertx vertx() {
    return vertx;
  }

  private void checkOpen() {
    if (closing != null) {
      throw new IllegalStateException("Environment '" + name + "' is closed");
    }
  }

  @Override
  public LocalEnvironment registerService(String service, Class<?> type) {
    return registerService(service, type, null);
  }

  @Override
  public LocalEnvironment registerService(String service, Class<?> type, ServiceOptions options) {
    checkOpen();
    registry.register(ServiceDefinition.ofClass(service, type, options));
    return this;
  }

  @Override
  public LocalEnvironment registerService(Class<?> type) {
    return registerService(type, null);
  }

  @Override
  public LocalEnvironment registerService(Class<?> type, ServiceOptions options) {
    checkOpen();
    registry.register(ServiceDefinition.ofAnnotated(type, options));
    return this;
  }

  @Override
  public LocalEnvironment registerService(String service, Supplier<?> factory) {
    return registerService(service, factory, null);
  }

  @Override
  public LocalEnvironment registerService(String service, Supplier<?> factory, ServiceOptions options) {
    checkOpen();
    registry.register(ServiceDefinition.ofSupplier(service, factory, options));
    return this;
  }

  @Override
  public LocalEnvironment servePipeline(String service, Function<DataStream<Object>, DataStream<?>> pipeline) {
    return servePipeline(service, pipeline, null);
  }

  @Override
  public LocalEnvironment servePipeline(String service, Function<DataStream<Object>, DataStream<?>> pipeline,
                                        ServiceOptions options) {
    checkOpen();
    Objects.requireNonNull(pipeline, "pipeline");
    ServiceOptions opts = options != null ? options : new ServiceOptions().setMaxConcurrency(64);
    // Jobs do not deploy a pipeline served as a service: one would wait for itself.
    registry.register(ServiceDefinition.ofSupplier(service, () -> new PipelineService(pipeline,
      (nodes, jobOptions) -> manager.submit(nodes, jobOptions, client), opts.getMaxQueued() + 1), opts), true);
    return this;
  }

  @Override
  public List<String> registeredServices() {
    return registry.names();
  }

  @Override
  public Future<Void> start() {
    List<Future<Void>> deploys = new ArrayList<>();
    for (String service : registry.names()) {
      deploys.add(deploy(service));
    }
    return Future.all(deploys).mapEmpty();
  }

  @Override
  public Future<Void> deploy(String service) {
    return ask(service, "deploy").mapEmpty();
  }

  @Override
  public Future<Void> undeploy(String service) {
    return ask(service, "undeploy").mapEmpty();
  }

  @Override
  public Future<Void> redeploy(String service, ServiceOptions options) {
    return redeploy(service, null, options);
  }

  @Override
  public Future<Void> redeploy(String service, Class<?> type, ServiceOptions options) {
    if (closing != null) {
      return Future.failedFuture(new IllegalStateException("Environment '" + name + "' is closed"));
    }
    ServiceRegistry.Registration current = service == null ? null : registry.get(service);
    if (current == null) {
      return Future.failedFuture(new ServiceNotFoundException(service, name, registry.names()));
    }
    try {
      ServiceDefinition before = current.definition();
      ServiceOptions next = options != null ? options : before.options();
      ServiceDefinition definition;
      if (type == null) {
        definition = before.withOptions(next);
      } else if (before.origin() instanceof ServiceDefinition.OfClass) {
        definition = ServiceDefinition.ofClass(service, type, next);
      } else {
        throw new IllegalArgumentException("Service '" + service + "' was registered with a Supplier, not a class: "
          + "redeploy it with new options only (env.redeploy(\"" + service + "\", options))");
      }
      registry.replace(definition);
    } catch (IllegalArgumentException | IllegalStateException e) {
      return Future.failedFuture(e);
    }
    return ask(service, "redeploy").mapEmpty();
  }

  private Future<JsonObject> ask(String service, String action) {
    if (closing != null) {
      return Future.failedFuture(new IllegalStateException("Environment '" + name + "' is closed"));
    }
    if (service == null || registry.get(service) == null) {
      return Future.failedFuture(new ServiceNotFoundException(service, name, registry.names()));
    }
    JsonObject request = new JsonObject().put("action", action).put("service", service);
    return managerDeployment
      .compose(id -> vertx.eventBus().<JsonObject>request(Protocol.managerAddress(name), request,
        new DeliveryOptions().setSendTimeout(EnvironmentManager.MANAGER_TIMEOUT_MS)))
      .map(msg -> msg.body())
      .recover(e -> Future.failedFuture(deploymentFailure(service, e)));
  }

  private static Throwable deploymentFailure(String service, Throwable e) {
    if (e instanceof ReplyException re && re.failureCode() == FailureCode.SERVICE_ERROR.code()) {
      try {
        JsonObject json = new JsonObject(re.getMessage());
        return new ServiceDeploymentException(service, json.getString("type"), json.getString("message"));
      } catch (DecodeException ignored) {
        return new ServiceDeploymentException(service, null, re.getMessage());
      }
    }
    return e;
  }

  /** {@return the builder of the named pipeline being built on this thread, else the environment's} */
  private PipelineBuilder builder() {
    PipelineBuilder b = building.get();
    return b != null ? b : pipelines;
  }

  @Override
  public <T> DataStream<T> fromBatch(Iterable<? extends T> records) {
    checkOpen();
    Objects.requireNonNull(records, "records");
    if (records instanceof Collection<? extends T> c) {
      return builder().batch(new CollectionBatch<>(c), "iterable");
    }
    return builder().batch(records.iterator(), "iterable");
  }

  @Override
  public <T> DataStream<T> fromBatch(Stream<? extends T> records) {
    checkOpen();
    return builder().batch(Objects.requireNonNull(records, "records").iterator(), "stream");
  }

  @Override
  public <T> DataStream<T> fromBatch(BatchFunction<T> batch) {
    checkOpen();
    Objects.requireNonNull(batch, "batch");
    return builder().batch(batch, batch.getClass().isAnonymousClass() ? null : batch.getClass().getSimpleName());
  }

  @Override
  public <T> DataStream<T> fromSource(SourceFunction<T> source) {
    checkOpen();
    return builder().source(source);
  }

  @Override
  public List<Job> jobs() {
    return manager.jobs();
  }

  @Override
  public Optional<Job> job(String id) {
    return id == null ? Optional.empty() : Optional.ofNullable(manager.job(id));
  }

  @Override
  public LocalEnvironment registerPipeline(String pipeline, Consumer<Environment> build) {
    checkOpen();
    ServiceDefinition.checkName("pipeline", pipeline);
    if (build == null) {
      throw new IllegalArgumentException("The build function of pipeline '" + pipeline + "' must not be null");
    }
    if (named.putIfAbsent(pipeline, build) != null) {
      throw new IllegalArgumentException("A pipeline named '" + pipeline + "' is already registered in environment '"
        + name + "'");
    }
    return this;
  }

  @Override
  public List<String> registeredPipelines() {
    return List.copyOf(named.keySet());
  }

  @Override
  public Future<Job> runPipeline(String pipeline) {
    return runPipeline(pipeline, new JobOptions());
  }

  @Override
  public Future<Job> runPipeline(String pipeline, JobOptions options) {
    if (closing != null) {
      return Future.failedFuture(new IllegalStateException("Environment '" + name + "' is closed"));
    }
    Consumer<Environment> build = pipeline == null ? null : named.get(pipeline);
    if (build == null) {
      return Future.failedFuture(new PipelineNotFoundException(pipeline, name, registeredPipelines()));
    }
    if (building.get() != null) {
      return Future.failedFuture(new IllegalStateException("Pipeline '" + pipeline
        + "' cannot be run from the build function of another pipeline"));
    }
    PipelineBuilder own = new PipelineBuilder();
    building.set(own);
    try {
      build.accept(this);
    } catch (RuntimeException e) {
      return Future.failedFuture(new IllegalStateException("The build function of pipeline '" + pipeline
        + "' failed: " + e, e));
    } finally {
      building.remove();
    }
    List<LogicalNode> nodes = own.drain();
    if (nodes.isEmpty()) {
      return Future.failedFuture(new IllegalStateException("Pipeline '" + pipeline + "' built nothing: its build "
        + "function must build a pipeline on the environment it is given, e.g. env.fromBatch(records).map(...).sink(...)"));
    }
    return managerDeployment.compose(id -> manager.submit(nodes, options, client));
  }

  @Override
  public Future<Job> submit() {
    return submit(new JobOptions());
  }

  @Override
  public Future<Job> submit(JobOptions options) {
    if (closing != null) {
      return Future.failedFuture(new IllegalStateException("Environment '" + name + "' is closed"));
    }
    if (building.get() != null) {
      return Future.failedFuture(new IllegalStateException("A pipeline's build function must not submit: "
        + "runPipeline submits what it built"));
    }
    List<LogicalNode> nodes = pipelines.drain();
    return managerDeployment.compose(id -> manager.submit(nodes, options, client));
  }

  @Override
  public ServiceClient services() {
    return client;
  }

  @Override
  public List<String> openResources() {
    return registry.tracker().list();
  }

  @Override
  public synchronized Future<Void> close() {
    if (closing != null) {
      return closing;
    }
    registry.tracker().cancelTimers();
    Future<Void> undeployed = managerDeployment
      .compose(vertx::undeploy, e -> {
        LOG.debug("Environment '{}': its manager never started, nothing to undeploy", name, e);
        return Future.succeededFuture();
      })
      .eventually(() -> {
        registry.uninstall(vertx);
        return registry.closeOperations(); // circuit breakers and their timers, meters
      });
    if (ownsVertx) {
      // Not undeployed.eventually(...): its result would be emitted on an event loop of the Vertx being closed.
      Promise<Void> closed = Promise.promise();
      undeployed.onComplete(ar -> vertx.close().onComplete(closed));
      closing = closed.future();
    } else {
      closing = undeployed;
    }
    return closing;
  }
}
