package io.sagebus.impl.job;

import io.sagebus.Job;
import io.sagebus.JobOptions;
import io.sagebus.JobResult;
import io.sagebus.ServiceClient;
import io.sagebus.impl.pipeline.LogicalNode;
import io.sagebus.impl.pipeline.PipelineCompiler;
import io.sagebus.impl.registry.ServiceRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs an environment's jobs: compiles the operators built since the last submit into an
 * {@link PipelineCompiler.ExecutionGraph}, has the graph's services deployed (held by the job,
 * through a {@link JobImpl.ServiceLease}), runs the job, and keeps the running and the last
 * {@value #MAX_FINISHED_JOBS} finished jobs for {@code jobs()}.
 */
public final class JobManager {

  /** Finished jobs kept for {@link #jobs()}: the most recent ones. */
  public static final int MAX_FINISHED_JOBS = 100;

  private final Vertx vertx;
  private final ServiceRegistry registry;
  private final JobImpl.ServiceLease lease;
  private final String idPrefix;
  private final Map<String, JobImpl> running = new ConcurrentHashMap<>();
  /** Running and recently finished jobs, oldest first; guarded by itself. */
  private final Map<String, JobImpl> known = new LinkedHashMap<>();
  private int finishedCount;
  private final AtomicLong counter = new AtomicLong();

  /**
   * A job manager.
   *
   * @param vertx    the Vertx
   * @param registry the environment's services
   * @param lease    deploys and releases a job's services
   * @param idPrefix how this JVM's job ids start ({@code <prefix>-job-<n>})
   */
  public JobManager(Vertx vertx, ServiceRegistry registry, JobImpl.ServiceLease lease, String idPrefix) {
    this.vertx = vertx;
    this.registry = registry;
    this.lease = lease;
    this.idPrefix = idPrefix;
  }

  /**
   * Compiles operators and runs them as a job.
   *
   * @param nodes   the operators built since the last submit
   * @param options the job's limits, or {@code null} for the defaults
   * @param client  the client the job's operators call with
   * @return the running job, or a failure when the graph cannot run or its services cannot be deployed
   */
  public Future<Job> submit(List<LogicalNode> nodes, JobOptions options, ServiceClient client) {
    PipelineCompiler.ExecutionGraph graph;
    try {
      graph = PipelineCompiler.compile(nodes, registry, options == null ? new JobOptions() : options);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    String id = idPrefix + "-job-" + counter.incrementAndGet();
    JobImpl job = new JobImpl(id, vertx, client, lease, graph, this::finished).traced(registry.tracing());
    running.put(id, job);
    synchronized (known) {
      known.put(id, job);
    }
    return job.start().onFailure(e -> finished(job));
  }

  /** Moves a job from the running ones to the finished ones, forgetting the oldest finished beyond the bound. */
  private void finished(JobImpl job) {
    if (running.remove(job.id()) == null) {
      return;
    }
    synchronized (known) {
      finishedCount++;
      Iterator<JobImpl> it = known.values().iterator();
      while (finishedCount > MAX_FINISHED_JOBS && it.hasNext()) {
        JobImpl j = it.next();
        if (!running.containsKey(j.id())) {
          it.remove();
          finishedCount--;
        }
      }
    }
  }

  /**
   * {@return the running jobs and the last {@value #MAX_FINISHED_JOBS} finished ones, in the order they were submitted}
   */
  public List<Job> jobs() {
    synchronized (known) {
      return List.copyOf(known.values());
    }
  }

  /**
   * {@return the job of that id, when it runs or is among the last finished ones, else {@code null}}
   *
   * @param id a job id
   */
  public Job job(String id) {
    synchronized (known) {
      return known.get(id);
    }
  }

  /**
   * Cancels every running job.
   *
   * @return completed when they have all ended
   */
  public Future<?> cancelAll() {
    List<Future<JobResult>> cancels = new ArrayList<>();
    for (JobImpl job : List.copyOf(running.values())) {
      cancels.add(job.cancel());
    }
    return Future.join(cancels);
  }
}
