package io.sagebus;

/**
 * Keeps the records it accepts.
 * <p>
 * Override {@code execute}; {@link #open()}, {@link #close()} and the service calls of
 * {@link OperatorFunction} are there too.
 *
 * @param <T> the input record type
 */
public abstract class FilterFunction<T> extends OperatorFunction {

  /** For subclasses. */
  protected FilterFunction() {
  }

  /**
   * Processes one record.
   *
   * @param value the record
   * @return {@code true} to keep the record
   * @throws Exception to fail the record (the job, unless the operator has an error handler)
   */
  public abstract boolean execute(T value) throws Exception;
}
