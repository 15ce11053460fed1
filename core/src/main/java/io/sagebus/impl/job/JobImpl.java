package io.sagebus.impl.job;

import io.sagebus.impl.pipeline.CollectionBatch;
import io.sagebus.impl.pipeline.LogicalNode;
import io.sagebus.impl.pipeline.PipelineCompiler;

import io.sagebus.Chaining;
import io.sagebus.Job;
import io.sagebus.JobFailedException;
import io.sagebus.JobOptions;
import io.sagebus.JobProgress;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.impl.call.Cancellation;
import io.sagebus.OperatorStats;
import io.sagebus.ServiceClient;
import io.sagebus.impl.Deployments;
import io.vertx.core.DeploymentOptions;
import io.sagebus.impl.trace.OperatorTrace;
import io.sagebus.impl.trace.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A running job: its operator tasks, deployed as virtual-thread verticles, its in-flight gate,
 * and its end: operators undeployed, then the job's services released.
 */
public final class JobImpl implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(JobImpl.class);
  private static final int MAX_ERRORS = 100;

  /** Deploys and releases the services a job needs; the deployment manager implements it. */
  public interface ServiceLease {
    /**
     * Deploys what the job needs.
     *
     * @param jobId    the job
     * @param services the services of the job's execution graph
     * @return completes when the services run
     */
    Future<Void> acquire(String jobId, List<PipelineCompiler.ServicePlan> services);

    /**
     * Stops what only this job needed.
     *
     * @param jobId the job
     * @return completes when they have stopped
     */
    Future<Void> release(String jobId);
  }

  private final String id;
  /** The services the compiled graph says the job needs. */
  private List<PipelineCompiler.ServicePlan> plannedServices = List.of();
  private final Vertx vertx;
  private final ServiceClient services;
  private final ServiceLease lease;
  private final long submitted = System.nanoTime();
  private final Instant submittedAt = Instant.now();
  private final long total;
  private volatile Instant endedAt;
  final InFlightGate gate;
  private final List<LogicalNode> nodes;
  private final Map<LogicalNode, NodeStats> stats = new LinkedHashMap<>();
  private final List<OperatorTask> tasks = new ArrayList<>();
  /** The instances with a thread of their own (the others run chained to one of these). */
  private final List<OperatorTask> heads = new ArrayList<>();
  private final Map<LogicalNode, OperatorTask[]> byNode = new LinkedHashMap<>();
  private final Map<OperatorTask, OperatorVerticle> verticles = new ConcurrentHashMap<>();
  private final List<String> errors = new CopyOnWriteArrayList<>();
  private final Promise<JobResult> done = Promise.promise();
  private final List<String> deploymentIds = new CopyOnWriteArrayList<>();
  private final AtomicInteger running = new AtomicInteger();
  private volatile JobStatus status = JobStatus.DEPLOYING;
  private volatile boolean stopping;
  /** The calls its operators have in flight: cancelled when it stops early. */
  private final Cancellation calls = new Cancellation();
  private volatile Throwable failure;
  private Consumer<JobImpl> onEnd = j -> { };
  private JobMeters meters;
  private Tracing tracing = Tracing.OFF;
  /** The job's span, while it runs with tracing on; its operators' record spans link to it. */
  volatile OperatorTrace.JobTrace trace;

  /**
   * Creates a job from a compiled graph; {@link #start()} runs it.
   *
   * @param id       the job id
   * @param vertx    the Vertx
   * @param services the environment's client, for the operators
   * @param lease    deploys and releases the job's services
   * @param graph    the compiled pipeline
   * @param onEnd    runs once the job has ended and cleaned up
   */
  public JobImpl(String id, Vertx vertx, ServiceClient services, ServiceLease lease,
                 PipelineCompiler.ExecutionGraph graph, Consumer<JobImpl> onEnd) {
    this(id, vertx, services, lease, graph.nodes(), graph.options());
    this.plannedServices = graph.services();
    this.onEnd = onEnd;
  }

  private JobImpl(String id, Vertx vertx, ServiceClient services, ServiceLease lease, List<LogicalNode> nodes, JobOptions options) {
    this.id = id;
    this.vertx = vertx;
    this.services = services;
    this.lease = lease;
    this.nodes = nodes;
    this.gate = new InFlightGate(options.getMaxRecordsInFlight());
    this.total = totalOf(nodes);
    for (LogicalNode n : nodes) {
      NodeStats s = new NodeStats(n.parallelism());
      stats.put(n, s);
      boolean chained = chained(options.getChaining(), n);
      OperatorTask[] instances = new OperatorTask[n.parallelism()];
      for (int i = 0; i < n.parallelism(); i++) {
        instances[i] = new OperatorTask(this, n, i, s, options.getQueueCapacity(), chained);
        tasks.add(instances[i]);
        if (!chained) {
          heads.add(instances[i]);
        }
      }
      byNode.put(n, instances);
    }
    for (LogicalNode consumer : nodes) {
      OperatorTask[] targets = byNode.get(consumer);
      for (LogicalNode.Input in : consumer.inputs()) {
        for (OperatorTask target : targets) {
          if (!target.chained) {
            target.expectedEnds += in.from().parallelism();
          }
        }
        for (OperatorTask sender : byNode.get(in.from())) {
          (in.failures() ? sender.failureOutputs : sender.outputs).add(new OperatorTask.Output(targets, in, sender.index));
        }
      }
    }
  }


  /**
   * {@return whether the operator runs chained to its upstream operator under the job's chaining}: every operator that
   * may be ({@link #chainable}) with {@link Chaining#ALL}, only a sink reading a mapAsync with
   * {@link Chaining#ASYNC_SINKS}, none with {@link Chaining#NONE}.
   *
   * @param mode the job's chaining
   * @param n    an operator
   */
  static boolean chained(Chaining mode, LogicalNode n) {
    return switch (mode) {
      case NONE -> false;
      case ALL -> chainable(n);
      case ASYNC_SINKS -> n.kind() == LogicalNode.Kind.SINK && chainable(n)
        && n.inputs().get(0).from().kind() == LogicalNode.Kind.MAP_ASYNC;
    };
  }

  /**
   * {@return whether the operator may run chained to its upstream operator (when the job's options chain): instance i
   * on the thread of upstream instance i, handed its records by a call} So when its only input is a FORWARD edge (the
   * same parallelism, no key), as Flink chains operators; an operator with two inputs (coMap), several, or a
   * redistributing one has a queue and a thread of its own.
   *
   * @param n an operator
   */
  static boolean chainable(LogicalNode n) {
    if (n.kind().isSource() || n.inputs().size() != 1) {
      return false;
    }
    LogicalNode.Input in = n.inputs().get(0);
    return in.partitioning() == LogicalNode.Partitioning.FORWARD && in.from().parallelism() == n.parallelism()
      && in.inputIndex() == 0;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public JobStatus status() {
    return status;
  }

  @Override
  public JobProgress progress() {
    long emitted = 0;
    long reached = 0;
    long failed = 0;
    List<OperatorStats> ops = new ArrayList<>(stats.size());
    for (Map.Entry<LogicalNode, NodeStats> e : stats.entrySet()) {
      LogicalNode n = e.getKey();
      NodeStats s = e.getValue();
      OperatorStats o = OperatorViews.stats(nodes, n, s, byNode.get(n), endedAt == null);
      ops.add(o);
      if (n.kind().isSource()) {
        emitted += o.recordsOut();
      }
      if (n.kind() == LogicalNode.Kind.SINK) {
        reached += o.recordsIn();
      }
      failed += o.errors();
    }
    Instant ended;
    JobStatus st;
    Throwable f;
    synchronized (this) {
      // Read with the status: a failure is set before the status says FAILED, so a FAILED job always says why.
      ended = endedAt;
      st = status;
      f = failure;
    }
    String why = f == null ? null : String.valueOf(f.getMessage());
    return new JobProgress(id, st, submittedAt, ended, emitted, reached, failed, total,
      ended != null ? 0 : Math.max(0, gate.current()), ops, why);
  }

  /** The records the sources will emit in all, when every source is a collection; else -1. */
  private static long totalOf(List<LogicalNode> nodes) {
    long sum = 0;
    for (LogicalNode n : nodes) {
      if (n.kind().isSource()) {
        if (!(n.function() instanceof CollectionBatch<?> batch)) {
          return -1;
        }
        sum += batch.size();
      }
    }
    return sum;
  }

  @Override
  public Future<JobResult> completion() {
    return done.future();
  }

  ServiceClient services() {
    return services;
  }

  /**
   * {@return this job, traced by {@code tracing} when it is on}; call before {@link #start()}
   *
   * @param tracing the environment's tracing
   */
  public JobImpl traced(Tracing tracing) {
    this.tracing = tracing;
    return this;
  }

  boolean stopping() {
    return stopping;
  }

  /**
   * Deploys the services, then the operators, then lets the records flow.
   *
   * @return completes with the job once it runs; fails with {@link JobFailedException} when it cannot be deployed
   */
  public Future<Job> start() {
    if (tracing.enabled()) {
      OperatorTrace.JobTrace t = tracing.job(id);
      trace = t;
      done.future().onComplete(ar -> t.ended(status.name(), ar));
    }
    return lease.acquire(id, plannedServices)
      .compose(v -> {
        List<Future<String>> deploys = new ArrayList<>();
        for (OperatorTask t : heads) {
          deploys.add(Deployments.deployDetached(vertx, new OperatorVerticle(t), new DeploymentOptions())
            .onSuccess(deploymentIds::add));
        }
        return Future.all(deploys);
      })
      .transform(ar -> {
        if (ar.failed()) {
          stopping = true;
          failure = ar.cause();
          status = JobStatus.FAILED;
          if (trace != null) {
            trace.ended(status.name(), ar);
          }
          return cleanUp()
            .onComplete(x -> endedAt = Instant.now())
            .transform(x -> Future.failedFuture(new JobFailedException("Job " + id
              + " could not be deployed: " + ar.cause().getMessage(), ar.cause(), result())));
        }
        status = JobStatus.RUNNING;
        meters = JobMeters.bind(vertx, services.environment(), id, stats, gate);
        if (meters != null) {
          done.future().onComplete(x -> meters.ended(status));
        }
        running.set(heads.size());
        for (OperatorTask t : heads) {
          launch(t);
        }
        return Future.succeededFuture(this);
      });
  }


  private void launch(OperatorTask task) {
    OperatorVerticle v = verticles.get(task);
    v.launch().onComplete(ar -> {
      if (ar.failed()) {
        Throwable cause = ar.cause();
        if (cause instanceof OperatorTask.SourceFailure sf) {
          taskFailed(task, null, sf.getCause());
        } else if (cause instanceof OperatorTask.ChainedFailure cf) {
          taskFailed(cf.task, null, cf.getCause());
        } else if (!(cause instanceof InterruptedException) || !stopping) {
          taskFailed(task, null, cause);
        }
      }
      if (running.decrementAndGet() == 0) {
        end();
      }
    });
  }

  void operatorFailed(OperatorTask task, Object record, Throwable cause) {
    taskFailed(task, record, cause);
  }

  private synchronized void taskFailed(OperatorTask task, Object record, Throwable cause) {
    if (failure != null || status == JobStatus.CANCELLED) {
      return;
    }
    String msg = "Job " + id + " failed in operator " + task.node.name() + " (instance " + task.index + ")"
      + (record == null ? "" : " on the record " + shorten(record)) + ": " + cause;
    failure = new JobFailedException(msg, cause, null);
    recordError(msg);
    status = JobStatus.FAILED;
    stopAll();
  }

  void recordError(String error) {
    if (errors.size() < MAX_ERRORS) {
      errors.add(error.length() > 500 ? error.substring(0, 500) + "..." : error);
    }
  }

  @Override
  public synchronized Future<JobResult> cancel() {
    if (!status.isFinal() && !stopping) {
      status = JobStatus.CANCELLED;
      stopAll();
    }
    return done.future().recover(e -> Future.succeededFuture(result()));
  }

  /** {@return what its operators' calls follow: cancelled when the job is cancelled or fails} */
  Cancellation calls() {
    return calls;
  }

  private void stopAll() {
    stopping = true;
    // Outside this job's lock (held here): a cancelled call's callbacks run on the cancelling thread.
    String why = status == JobStatus.CANCELLED ? "job " + id + " was cancelled" : "job " + id + " failed";
    vertx.runOnContext(v -> calls.cancel(why));
    for (OperatorTask t : tasks) {
      t.interrupt();
    }
  }

  private void end() {
    cleanUp().onComplete(ar -> {
      JobResult result;
      synchronized (this) {
        if (failure != null) {
          status = JobStatus.FAILED;
        } else if (status != JobStatus.CANCELLED) {
          status = JobStatus.COMPLETED;
        }
        endedAt = Instant.now();
        result = result();
      }
      onEnd.accept(this);
      if (failure != null) {
        Throwable cause = failure instanceof JobFailedException jfe ? jfe.getCause() : failure;
        done.fail(new JobFailedException(failure.getMessage(), cause, result));
      } else {
        done.complete(result);
      }
    });
  }

  /** Undeploys the operators, then releases the services: never stops half-way. */
  private Future<Void> cleanUp() {
    List<Future<Void>> undeploys = new ArrayList<>();
    for (String deploymentId : deploymentIds) {
      undeploys.add(vertx.undeploy(deploymentId).onFailure(e ->
        LOG.warn("Job {}: undeploying an operator failed", id, e)));
    }
    return Future.join(undeploys)
      .transform(ar -> lease.release(id))
      .transform(ar -> {
        if (ar.failed()) {
          LOG.warn("Job {}: stopping its services failed", id, ar.cause());
        }
        return Future.succeededFuture();
      });
  }

  private JobResult result() {
    List<OperatorStats> ops = new ArrayList<>();
    stats.forEach((n, s) -> ops.add(OperatorViews.stats(nodes, n, s, byNode.get(n), false)));
    return new JobResult(id, status, Duration.ofNanos(System.nanoTime() - submitted), ops, List.copyOf(errors),
      gate.peak(), gate.cap());
  }

  /**
   * {@return a short text of a record, for messages: JSON for JSON types, else toString, at most 200 characters}
   *
   * @param record a record
   */
  static String shorten(Object record) {
    String s;
    try {
      s = record instanceof JsonObject o ? o.encode() : record instanceof JsonArray a ? a.encode() : String.valueOf(record);
    } catch (RuntimeException e) {
      s = record.getClass().getName();
    }
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  /**
   * The verticle of one operator instance (with those chained to it): its loop runs on a virtual thread of its own,
   * outside any Vert.x context, so that what completes the Futures it waits for (a reply on an event loop, a service's
   * runner thread) wakes it directly, not through a context's task queue; its end is heard on the verticle's context.
   */
  private final class OperatorVerticle extends VerticleBase {
    private final OperatorTask task;

    OperatorVerticle(OperatorTask task) {
      this.task = task;
      verticles.put(task, this);
    }

    Future<Void> launch() {
      Promise<Void> ended = ((ContextInternal) context).promise();
      Thread.ofVirtual().name("sagebus-operator-" + task.node.name() + "#" + task.index).start(() -> {
        try {
          task.run();
          ended.complete();
        } catch (Throwable t) {
          ended.fail(t);
        }
      });
      return ended.future();
    }

    @Override
    public Future<?> start() {
      return Future.succeededFuture();
    }
  }
}
