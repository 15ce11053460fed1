package io.sagebus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A Sagebus environment: named services registered, deployed as service tasks on the event bus,
 * and called by name through {@link #services()}.
 * <p>
 * Registering records a factory and its options; nothing runs until {@link #start()} (or
 * {@link #deploy(String)}) deploys the service tasks. {@link #close()} undeploys everything
 * the environment started and leaves nothing running.
 *
 * @see LocalEnvironment
 */
public interface Environment {

  /**
   * {@return the environment's name, part of every event-bus address it uses}
   */
  String name();

  /**
   * {@return the Vert.x instance the environment runs on}
   */
  Vertx vertx();

  /**
   * Registers a service class under a name. The class needs a public constructor taking no
   * argument or a {@link ServiceContext}; each instance is created on its own virtual thread.
   *
   * @param name the service name: letters, digits, {@code _} and {@code -}
   * @param type the service class
   * @return this
   * @throws IllegalArgumentException when the name is null, malformed or taken, or the class cannot be instantiated
   */
  Environment registerService(String name, Class<?> type);

  /**
   * Registers a service class under a name, with options.
   *
   * @param name    the service name
   * @param type    the service class
   * @param options instances, limits, timeouts, retries, configuration (copied)
   * @return this
   * @throws IllegalArgumentException when the name is null, malformed or taken, or the class cannot be instantiated
   */
  Environment registerService(String name, Class<?> type, ServiceOptions options);

  /**
   * Registers a class annotated with {@link SagebusService} under the annotation's name.
   *
   * @param type the service class
   * @return this
   * @throws IllegalArgumentException when the class has no {@code @SagebusService}, or as {@link #registerService(String, Class)}
   */
  Environment registerService(Class<?> type);

  /**
   * Registers a class annotated with {@link SagebusService} under the annotation's name, with options.
   *
   * @param type    the service class
   * @param options instances, limits, timeouts, retries, configuration (copied)
   * @return this
   * @throws IllegalArgumentException when the class has no {@code @SagebusService}, or as {@link #registerService(String, Class)}
   */
  Environment registerService(Class<?> type, ServiceOptions options);

  /**
   * Registers a factory under a name; it is called once per instance, on that instance's virtual thread.
   *
   * @param name    the service name
   * @param factory creates one service object per call
   * @return this
   * @throws IllegalArgumentException when the name is null, malformed or taken, or the factory is null
   */
  Environment registerService(String name, Supplier<?> factory);

  /**
   * Registers a factory under a name, with options.
   *
   * @param name    the service name
   * @param factory creates one service object per call
   * @param options instances, limits, timeouts, retries, configuration (copied)
   * @return this
   * @throws IllegalArgumentException when the name is null, malformed or taken, or the factory is null
   */
  Environment registerService(String name, Supplier<?> factory, ServiceOptions options);

  /**
   * {@return the names of the registered services, sorted}
   */
  List<String> registeredServices();

  /**
   * Deploys every registered service that is not running.
   *
   * @return completes when every instance's consumer is registered; fails (having rolled back
   *     what it deployed for the failing service) when one cannot start
   */
  Future<Void> start();

  /**
   * Deploys one registered service, {@link ServiceOptions#getInstances()} instances.
   *
   * @param service the service name
   * @return completes when every instance's consumer is registered; fails with
   *     {@link ServiceNotFoundException} for an unregistered name, or with the cause of a failed
   *     start after rolling back the instances that did start
   */
  Future<Void> deploy(String service);

  /**
   * Undeploys one service: its consumers are unregistered, queued calls answered STOPPING,
   * executing calls get the drain timeout, then {@code stop} and {@code cleanup} run. The
   * service stays registered and can be deployed again.
   *
   * @param service the service name
   * @return completes when every instance has stopped
   */
  Future<Void> undeploy(String service);

  /**
   * Redeploys a registered service with new options: its registration takes them, and its running
   * instances are replaced by instances made with them, one at a time (a rolling replacement). Each
   * new instance serves (its consumer registered; in a cluster, in the cluster's subscription map)
   * before an old one leaves; the old one then refuses every call that reaches it, and every call
   * queued in it, with {@link FailureCode#LEAVING}, which its caller sends again at once to another
   * instance (the method never ran, so retryable or not), and stops as {@link #undeploy(String)}
   * stops it, draining its executing calls within its drain timeout. A job running through a
   * redeploy fails no call for it.
   * <p>
   * Calls made from now on take the new timeouts, retry policy, rate limit and cache (emptied); the
   * callers' circuit breaker starts closed. The count goes from the old instances to
   * {@link ServiceOptions#getInstances()} (or, in a cluster, what the new {@link AutoscalePolicy}
   * allows of the count running). A service not running only takes the new options, for its next
   * deploy. In a cluster ({@code ClusterEnvironment}) a service registered by class has its replicas
   * replaced on the nodes whose catalogue holds it (with that class), and the nodes' catalogue
   * options rule the replicas, as for a deploy; redeploys of one service run one after another.
   *
   * @param service the service name
   * @param options the new options (copied), or {@code null} to keep those registered (the instances are
   *                replaced all the same)
   * @return completes once the last old instance has stopped; fails with {@link ServiceNotFoundException}
   *     for an unregistered name, {@link IllegalArgumentException} for a pipeline served as a service or
   *     options its class cannot take, or {@link ServiceDeploymentException} when a new instance cannot
   *     start (then the instances started, new and old, keep serving)
   */
  Future<Void> redeploy(String service, ServiceOptions options);

  /**
   * Redeploys a service registered by class with another class (a new version of the service, say), as
   * {@link #redeploy(String, ServiceOptions)} does: its registration takes the class and options, and its
   * running instances are replaced, one at a time, by instances of the new class. In a cluster the new
   * replicas go to the nodes whose catalogue holds the service with the new class (nodes started with
   * the new version), and the old ones leave the nodes that run them.
   *
   * @param service the service name
   * @param type    the new class, with a public constructor taking no argument or a {@link ServiceContext}
   * @param options the new options (copied), or {@code null} to keep those registered
   * @return as {@link #redeploy(String, ServiceOptions)}; also fails with {@link IllegalArgumentException}
   *     when the service was registered with a {@link Supplier} or the class cannot be instantiated, and in a
   *     cluster with {@link ServiceDeploymentException} when no live node's catalogue holds the new class (then
   *     nothing was replaced)
   */
  Future<Void> redeploy(String service, Class<?> type, ServiceOptions options);

  /**
   * Starts a pipeline from a finite collection. The iterable is read lazily, once, by the source
   * when the job runs.
   *
   * @param records the records; none may be {@code null}
   * @param <T>     the record type
   * @return the stream of those records
   */
  <T> DataStream<T> fromBatch(Iterable<? extends T> records);

  /**
   * Starts a pipeline from a (possibly lazy) Java stream, read once when the job runs.
   *
   * @param records the records; none may be {@code null}
   * @param <T>     the record type
   * @return the stream of those records
   */
  <T> DataStream<T> fromBatch(Stream<? extends T> records);

  /**
   * Starts a pipeline from a batch function, read until it returns {@code null}.
   *
   * @param batch the batch
   * @param <T>   the record type
   * @return the stream of its records
   */
  <T> DataStream<T> fromBatch(BatchFunction<T> batch);

  /**
   * Starts a pipeline from a source that runs until it returns or the job is cancelled.
   *
   * @param source the source
   * @param <T>    the record type
   * @return the stream of its records
   */
  <T> DataStream<T> fromSource(SourceFunction<T> source);

  /**
   * Submits every pipeline built on this environment since the last submit, as one job with the
   * default {@link JobOptions}. The job's services (every registered service, as in SAGE) are
   * deployed first unless already running, and stopped when the job ends unless something else
   * still needs them.
   *
   * @return completes with the running job; fails at once for a graph that cannot run (no sink,
   *     an output nobody reads, an undeclared service: {@link ServiceNotFoundException}), or with
   *     {@link JobFailedException} when it cannot be deployed
   */
  Future<Job> submit();

  /**
   * Like {@link #submit()}, with limits.
   *
   * @param options in-flight cap and queue depth (copied)
   * @return as {@link #submit()}
   */
  Future<Job> submit(JobOptions options);

  /**
   * Registers a pipeline as a service ("Pipeline as Service"). Each instance of the service runs
   * the pipeline as a streaming job; each call's arguments enter it as one record (a single
   * argument as itself, several as a JSON array), and the call answers the JSON array of every
   * record that reached the pipeline's end for it: empty when it was filtered out, several when
   * a flatMap split it. Records of concurrent calls never mix. The service runs 64 calls at once
   * unless {@code options} say otherwise.
   *
   * @param name     the service name
   * @param pipeline builds the pipeline from its input stream and returns its last stream
   * @param options  instances, limits, timeouts (copied), or {@code null}
   * @return this
   * @throws IllegalArgumentException when the name is malformed or taken
   */
  Environment servePipeline(String name, Function<DataStream<Object>, DataStream<?>> pipeline, ServiceOptions options);

  /**
   * Registers a pipeline as a service, with the default options of pipeline services (64 calls
   * at once); see {@link #servePipeline(String, Function, ServiceOptions)}.
   *
   * @param name     the service name
   * @param pipeline builds the pipeline from its input stream and returns its last stream
   * @return this
   * @throws IllegalArgumentException when the name is malformed or taken
   */
  Environment servePipeline(String name, Function<DataStream<Object>, DataStream<?>> pipeline);

  /**
   * {@return the environment's jobs: every running one and the last 100 finished ones (oldest
   *     forgotten first), in the order they were submitted. Jobs of pipelines served as services
   *     ({@link #servePipeline(String, Function)}) are among them}
   */
  List<Job> jobs();

  /**
   * Finds a job by id.
   *
   * @param id a job id ({@link Job#id()})
   * @return the job, or empty when no running job has that id and it is not among the last 100
   *     finished ones (or the id is {@code null})
   */
  Optional<Job> job(String id);

  /**
   * Registers a pipeline under a name, so that it can be run by name later, as often as needed
   * ({@link #runPipeline(String)}), for example by the management API or the {@code sagebus run}
   * command. Nothing is built or run now.
   * <p>
   * {@code build} is called once per run, on the thread that calls {@code runPipeline}, and must
   * build the whole pipeline on the environment it is given, from its sources to its sinks, e.g.
   * {@code env -> env.fromBatch(List.of(1, 2, 3)).map(x -> x * 2).sink(results::add)}. It must not
   * block and must not call {@link #submit()}: the run submits what it built, and only that
   * (operators built elsewhere on the environment at the same time are not mixed in).
   *
   * @param name  the pipeline's name: letters, digits, {@code _} and {@code -}
   * @param build builds the pipeline on the environment it is given
   * @return this
   * @throws IllegalArgumentException when the name is null, malformed or taken, or {@code build} is null
   */
  Environment registerPipeline(String name, Consumer<Environment> build);

  /**
   * {@return the names of the registered pipelines ({@link #registerPipeline(String, Consumer)}), sorted}
   */
  List<String> registeredPipelines();

  /**
   * Builds the named pipeline and submits it as a job with the default {@link JobOptions}.
   *
   * @param name a registered pipeline's name
   * @return as {@link #submit()}; fails with {@link PipelineNotFoundException} for a name that is
   *     not registered, and with {@link IllegalStateException} when its build function throws or
   *     builds nothing that can run
   */
  Future<Job> runPipeline(String name);

  /**
   * Like {@link #runPipeline(String)}, with limits.
   *
   * @param name    a registered pipeline's name
   * @param options in-flight cap and queue depth (copied)
   * @return as {@link #runPipeline(String)}
   */
  Future<Job> runPipeline(String name, JobOptions options);

  /**
   * {@return the client calling this environment's services}
   */
  ServiceClient services();

  /**
   * What the environment holds open now: event-bus consumers, timers and service threads. Empty
   * after {@link #close()} completes. For diagnostics and leak tests.
   *
   * @return one line per open resource
   */
  List<String> openResources();

  /**
   * Undeploys every service and the deployment manager and, when the environment created its
   * Vertx, closes it. Calls waiting for a retry fail with {@link FailureCode#STOPPING}.
   *
   * @return completes when nothing of the environment is left running
   */
  Future<Void> close();
}
