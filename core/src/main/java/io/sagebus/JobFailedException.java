package io.sagebus;

/**
 * A job failed: an operator threw on a record (and had no error handler), a source failed, or the
 * job could not be deployed. The message names the operator, the record (shortened) and the
 * cause; {@link #result()} holds the counters up to the failure. The job's operators and services
 * were stopped before this is reported.
 */
public class JobFailedException extends SagebusException {

  private static final long serialVersionUID = 1L;

  private final transient JobResult result;

  /**
   * Creates the exception.
   *
   * @param message what failed, where, on which record
   * @param cause   the operator's exception
   * @param result  the job's counters at the end
   */
  public JobFailedException(String message, Throwable cause, JobResult result) {
    super(message, cause);
    this.result = result;
  }

  /**
   * {@return the job's counters at the end}
   */
  public JobResult result() {
    return result;
  }
}
