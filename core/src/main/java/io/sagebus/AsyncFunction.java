package io.sagebus;

/**
 * Maps each record to one record through a {@link io.vertx.core.Future}, for {@link DataStream#mapAsync}. Runs on the operator's virtual thread (for a {@code mapAsync} declared
 * {@link DataStream#nonBlocking()}, also on the thread, or in a task of the event loop, where an earlier call of the
 * operator ended); the future may complete on any thread.
 * <p>
 * Override {@code execute}; {@link #open()}, {@link #close()} and the service calls of
 * {@link OperatorFunction} are there too.
 *
 * @param <T> the input record type
 * @param <R> the output record type
 */
public abstract class AsyncFunction<T, R> extends OperatorFunction {

  /** For subclasses. */
  protected AsyncFunction() {
  }

  /**
   * Processes one record.
   *
   * @param value the record
   * @return the future result; never {@code null}
   * @throws Exception to fail the record (the job, unless the operator has an error handler)
   */
  public abstract io.vertx.core.Future<R> execute(T value) throws Exception;
}
