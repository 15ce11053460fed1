package io.sagebus;

/**
 * A finite source, read one record at a time, as SAGE's batch functions are
 * ({@link Environment#fromBatch(BatchFunction)}).
 *
 * @param <T> the record type
 */
public abstract class BatchFunction<T> extends OperatorFunction {

  /** For subclasses. */
  protected BatchFunction() {
  }

  /**
   * Produces the next record of the batch.
   *
   * @return the next record, or {@code null} when the batch is over
   * @throws Exception to fail the job
   */
  public abstract T execute() throws Exception;
}
