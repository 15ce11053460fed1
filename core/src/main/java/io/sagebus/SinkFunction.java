package io.sagebus;

/**
 * Consumes the records that reach the end of a stream.
 * <p>
 * Override {@code execute}; {@link #open()}, {@link #close()} and the service calls of
 * {@link OperatorFunction} are there too.
 *
 * @param <T> the input record type
 */
public abstract class SinkFunction<T> extends OperatorFunction {

  /** For subclasses. */
  protected SinkFunction() {
  }

  /**
   * Processes one record.
   *
   * @param value the record
   * @throws Exception to fail the record (the job, unless the operator has an error handler)
   */
  public abstract void execute(T value) throws Exception;
}
