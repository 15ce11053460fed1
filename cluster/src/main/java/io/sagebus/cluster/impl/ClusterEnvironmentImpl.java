package io.sagebus.cluster.impl;

import io.sagebus.BatchFunction;
import io.sagebus.DataStream;
import io.sagebus.Environment;
import io.sagebus.EnvironmentOptions;
import io.sagebus.Job;
import io.sagebus.JobOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceOptions;
import io.sagebus.SourceFunction;
import io.sagebus.cluster.ClusterEnvironment;
import io.sagebus.cluster.ClusterOptions;
import io.sagebus.cluster.SagebusCluster;
import io.sagebus.impl.Deployments;
import io.sagebus.impl.registry.ServiceDefinition;
import io.sagebus.impl.env.LocalEnvironmentImpl;
import io.sagebus.spi.ClusterSupport;
import io.sagebus.impl.registry.ServiceRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A {@link ClusterEnvironment}: a local environment whose deployment manager places class
 * registrations through a {@link Coordinator}, plus the cluster's records.
 */
public final class ClusterEnvironmentImpl implements ClusterEnvironment {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterEnvironmentImpl.class);

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final String name;
  private final Coordinator coordinator;
  private final String coordinatorId;
  private final LocalEnvironment local;
  private final String member;
  private final List<String> published = new ArrayList<>();
  private Future<Void> publishing = Future.succeededFuture();
  private Future<Void> closing;

  private ClusterEnvironmentImpl(Vertx vertx, boolean ownsVertx, String name, Coordinator coordinator,
                                 String coordinatorId, LocalEnvironmentImpl local) {
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.name = name;
    this.coordinator = coordinator;
    this.coordinatorId = coordinatorId;
    this.local = local;
    local.registry().onRegister(this::publish);
    this.member = SagebusCluster.hazelcast(vertx).getCluster().getLocalMember().getUuid().toString();
  }

  /**
   * {@return the environment, in a clustered Vertx of its own}
   *
   * @param cluster the cluster settings
   * @param name    the environment name
   * @param options its options
   */
  public static Future<ClusterEnvironment> create(ClusterOptions cluster, String name, EnvironmentOptions options) {
    try {
      ServiceDefinition.checkName("environment", name);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    boolean metrics = options != null && options.isMetricsEnabled();
    return SagebusCluster.vertx(cluster, metrics).compose(vertx -> create(vertx, true, name, options)
      .recover(e -> vertx.close().transform(ignored -> Future.failedFuture(e))));
  }

  /**
   * {@return the environment, in a clustered Vertx the caller owns}
   *
   * @param vertx   the clustered Vertx
   * @param name    the environment name
   * @param options its options
   */
  public static Future<ClusterEnvironment> create(Vertx vertx, String name, EnvironmentOptions options) {
    return create(vertx, false, name, options);
  }

  private static Future<ClusterEnvironment> create(Vertx vertx, boolean owns, String name, EnvironmentOptions options) {
    Coordinator coordinator;
    try {
      ServiceDefinition.checkName("environment", name);
      SagebusCluster.hazelcast(vertx);
      if (ServiceRegistry.lookup(vertx, name) != null) {
        throw new IllegalStateException("This Vertx already has a Sagebus environment named '" + name
          + "': close it first, or choose another name");
      }
      coordinator = new Coordinator(name);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return Deployments.deployDetached(vertx, coordinator,
        new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD))
      .compose(id -> {
        try {
          // The cluster meets core here only: its placement and directory, handed to the environment it creates.
          LocalEnvironmentImpl local = LocalEnvironmentImpl.create(vertx, name, options,
            new ClusterSupport(coordinator, coordinator));
          return Future.succeededFuture(new ClusterEnvironmentImpl(vertx, owns, name, coordinator, id, local));
        } catch (RuntimeException e) {
          return vertx.undeploy(id).transform(ignored -> Future.failedFuture(e));
        }
      });
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Vertx vertx() {
    return vertx;
  }

  /** Registers with the local environment, whose registry announces the registration to {@link #publish}. */
  private synchronized ClusterEnvironment register(Runnable registration) {
    if (closing != null) {
      throw new IllegalStateException("Environment '" + name + "' is closed");
    }
    registration.run();
    return this;
  }

  /** Publishes a registration of the local environment in the cluster's map (called by its registry, on registering). */
  private synchronized void publish(ServiceRegistry.Registration registration) {
    ServiceDefinition definition = registration.definition();
    String service = definition.name();
    Future<Void> put = coordinator.publish(definition, !coordinator.places(definition))
      .onSuccess(v -> published(service))
      .onFailure(e -> LOG.warn("Environment '{}': service '{}' is not registered in the cluster: {}", name, service,
        e.getMessage()));
    publishing = Future.join(publishing, put).mapEmpty();
  }

  /** {@return completes once every registration made so far is published, or failed to be} */
  private synchronized Future<Void> published() {
    return publishing;
  }

  private synchronized void published(String service) {
    if (!published.contains(service)) {
      published.add(service); // once, though a redeploy publishes it again
    }
  }

  private synchronized List<String> publishedNames() {
    return List.copyOf(published);
  }

  @Override
  public ClusterEnvironment registerService(String service, Class<?> type) {
    return register(() -> local.registerService(service, type));
  }

  @Override
  public ClusterEnvironment registerService(String service, Class<?> type, ServiceOptions options) {
    return register(() -> local.registerService(service, type, options));
  }

  @Override
  public ClusterEnvironment registerService(Class<?> type) {
    return register(() -> local.registerService(type));
  }

  @Override
  public ClusterEnvironment registerService(Class<?> type, ServiceOptions options) {
    return register(() -> local.registerService(type, options));
  }

  @Override
  public ClusterEnvironment registerService(String service, Supplier<?> factory) {
    return register(() -> local.registerService(service, factory));
  }

  @Override
  public ClusterEnvironment registerService(String service, Supplier<?> factory, ServiceOptions options) {
    return register(() -> local.registerService(service, factory, options));
  }

  @Override
  public ClusterEnvironment servePipeline(String service, Function<DataStream<Object>, DataStream<?>> pipeline,
                                          ServiceOptions options) {
    return register(() -> local.servePipeline(service, pipeline, options));
  }

  @Override
  public ClusterEnvironment servePipeline(String service, Function<DataStream<Object>, DataStream<?>> pipeline) {
    return register(() -> local.servePipeline(service, pipeline));
  }

  @Override
  public Future<Void> redeploy(String service, ServiceOptions options) {
    return redeploy(() -> local.redeploy(service, options));
  }

  @Override
  public Future<Void> redeploy(String service, Class<?> type, ServiceOptions options) {
    return redeploy(() -> local.redeploy(service, type, options));
  }

  private Future<Void> redeploy(Supplier<Future<Void>> redeploy) {
    synchronized (this) {
      if (closing != null) {
        return Future.failedFuture(new IllegalStateException("Environment '" + name + "' is closed"));
      }
    }
    return redeploy.get();
  }

  @Override
  public List<String> registeredServices() {
    return local.registeredServices();
  }

  @Override
  public Future<Void> start() {
    return local.start();
  }

  @Override
  public Future<Void> deploy(String service) {
    return local.deploy(service);
  }

  @Override
  public Future<Void> undeploy(String service) {
    return local.undeploy(service);
  }

  @Override
  public <T> DataStream<T> fromBatch(Iterable<? extends T> records) {
    return local.fromBatch(records);
  }

  @Override
  public <T> DataStream<T> fromBatch(Stream<? extends T> records) {
    return local.fromBatch(records);
  }

  @Override
  public <T> DataStream<T> fromBatch(BatchFunction<T> batch) {
    return local.fromBatch(batch);
  }

  @Override
  public <T> DataStream<T> fromSource(SourceFunction<T> source) {
    return local.fromSource(source);
  }

  @Override
  public Future<Job> submit() {
    return submit(new JobOptions());
  }

  @Override
  public Future<Job> submit(JobOptions options) {
    // Placing a service waits for its registration to be published (Coordinator), not the operators: they are
    // taken now, as a local submit takes them.
    return local.submit(options).onSuccess(this::record);
  }

  /** How often a running job's record in the cluster's job map is refreshed. */
  private static final long JOB_RECORD_PERIOD_MS = 1000;

  /**
   * Keeps the job's record in the cluster's job map: its progress ({@link io.sagebus.JobProgress#toJson()})
   * at start, every second while it runs, and at its end (with its result), so that any member can show it.
   */
  private void record(Job job) {
    long started = System.currentTimeMillis();
    Runnable write = () -> coordinator.recordJob(new JobRecord(job.id(), member, started, job.status().name(),
        System.currentTimeMillis(), null, job.progress().toJson(), null, null))
      .onFailure(e -> LOG.warn("Environment '{}': recording job {} failed", name, job.id(), e));
    write.run();
    long timer = vertx.setPeriodic(JOB_RECORD_PERIOD_MS, id -> write.run());
    job.completion().onComplete(ar -> {
      vertx.cancelTimer(timer);
      long now = System.currentTimeMillis();
      JobRecord done = ar.succeeded()
        ? new JobRecord(job.id(), member, started, ar.result().status().name(), now, now, job.progress().toJson(),
          ar.result().toJson(), null)
        : new JobRecord(job.id(), member, started, job.status().name(), now, now, job.progress().toJson(), null,
          String.valueOf(ar.cause()));
      coordinator.recordJob(done)
        .onFailure(e -> LOG.warn("Environment '{}': recording the end of job {} failed", name, job.id(), e));
    });
  }

  @Override
  public List<Job> jobs() {
    return local.jobs();
  }

  @Override
  public Optional<Job> job(String id) {
    return local.job(id);
  }

  @Override
  public ClusterEnvironment registerPipeline(String pipeline, Consumer<Environment> build) {
    local.registerPipeline(pipeline, build);
    return this;
  }

  @Override
  public List<String> registeredPipelines() {
    return local.registeredPipelines();
  }

  @Override
  public Future<Job> runPipeline(String pipeline) {
    return runPipeline(pipeline, new JobOptions());
  }

  @Override
  public Future<Job> runPipeline(String pipeline, JobOptions options) {
    return local.runPipeline(pipeline, options).onSuccess(this::record);
  }

  @Override
  public ServiceClient services() {
    return local.services();
  }

  @Override
  public List<String> openResources() {
    return local.openResources();
  }

  @Override
  public Future<JsonArray> nodes() {
    return coordinator.records("nodes");
  }

  @Override
  public Future<JsonArray> placements() {
    return coordinator.records("placements");
  }

  @Override
  public Future<JsonArray> jobRecords() {
    return coordinator.records("jobs");
  }

  @Override
  public synchronized Future<Void> close() {
    if (closing != null) {
      return closing;
    }
    Future<Void> closed = published().transform(ignored -> local.close())
      .transform(ignored -> coordinator.unpublish(publishedNames()))
      .transform(ar -> {
        if (ar.failed()) {
          LOG.warn("Environment '{}': removing its registrations from the cluster failed", name, ar.cause());
        }
        return vertx.undeploy(coordinatorId).recover(e -> Future.succeededFuture());
      });
    if (ownsVertx) {
      Promise<Void> done = Promise.promise();
      closed.onComplete(ar -> vertx.close().onComplete(done));
      closing = done.future();
    } else {
      closing = closed;
    }
    return closing;
  }
}
