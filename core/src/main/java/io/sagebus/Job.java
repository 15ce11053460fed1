package io.sagebus;

import io.vertx.core.Future;

/**
 * A submitted pipeline ({@link Environment#submit()}, {@link Environment#runPipeline(String)}).
 * {@link Environment#jobs()} lists the running ones and the last finished ones.
 */
public interface Job {

  /**
   * {@return the job's id, unique in its environment}
   */
  String id();

  /**
   * {@return the job's state now}
   */
  JobStatus status();

  /**
   * A snapshot of the job's counters: records emitted by its sources, records that reached its
   * sinks, failed records, the total when known, and each operator's counts. Cheap: it reads
   * counters the operators keep anyway; safe to call from any thread, also after the job ended.
   *
   * @return the snapshot
   */
  JobProgress progress();

  /**
   * {@return completes with the result when the job is COMPLETED or CANCELLED, after its
   *     operators and services have stopped; fails with {@link JobFailedException} when it FAILED}
   */
  Future<JobResult> completion();

  /**
   * Cancels the job: sources stop, records in flight are dropped, operators and the job's
   * services stop. A no-op on a job that has ended.
   *
   * @return completes when the job has stopped
   */
  Future<JobResult> cancel();
}
