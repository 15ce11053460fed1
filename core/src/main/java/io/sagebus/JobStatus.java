package io.sagebus;

/**
 * The state of a {@link Job}.
 */
public enum JobStatus {
  /** Services and operators are being deployed. */
  DEPLOYING,
  /** Every operator runs; records flow. */
  RUNNING,
  /** Every sink saw the end of its input; operators and the job's services were stopped. */
  COMPLETED,
  /** An operator failed; operators and the job's services were stopped. */
  FAILED,
  /** The job was cancelled; operators and the job's services were stopped. */
  CANCELLED;

  /**
   * {@return {@code true} for COMPLETED, FAILED and CANCELLED}
   */
  public boolean isFinal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }
}
