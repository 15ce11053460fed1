package io.sagebus;

import io.vertx.core.Future;

/**
 * A submitted pipeline ({@link Environment#submit()}).
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
