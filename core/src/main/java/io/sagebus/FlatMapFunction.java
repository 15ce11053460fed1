package io.sagebus;

/**
 * Maps each record to zero, one or more records.
 * <p>
 * Override {@code execute}; {@link #open()}, {@link #close()} and the service calls of
 * {@link OperatorFunction} are there too.
 *
 * @param <T> the input record type
 * @param <R> the output record type
 */
public abstract class FlatMapFunction<T, R> extends OperatorFunction {

  /** For subclasses. */
  protected FlatMapFunction() {
  }

  /**
   * Processes one record.
   *
   * @param value the record
   * @param out   where to emit the records it yields
   * @throws Exception to fail the record (the job, unless the operator has an error handler)
   */
  public abstract void execute(T value, Collector<R> out) throws Exception;
}
