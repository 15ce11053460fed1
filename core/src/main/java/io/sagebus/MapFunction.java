package io.sagebus;

/**
 * Maps each record to one record.
 * <p>
 * Override {@code execute}; {@link #open()}, {@link #close()} and the service calls of
 * {@link OperatorFunction} are there too.
 *
 * @param <T> the input record type
 * @param <R> the output record type
 */
public abstract class MapFunction<T, R> extends OperatorFunction {

  /** For subclasses. */
  protected MapFunction() {
  }

  /**
   * Processes one record.
   *
   * @param value the record
   * @return the record to emit; never {@code null} (use a {@link FilterFunction} to drop records)
   * @throws Exception to fail the record (the job, unless the operator has an error handler)
   */
  public abstract R execute(T value) throws Exception;
}
