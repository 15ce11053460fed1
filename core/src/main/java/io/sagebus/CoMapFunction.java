package io.sagebus;

/**
 * Maps the records of two connected streams to one output stream ({@link ConnectedStreams#coMap}).
 *
 * @param <A> the record type of the first stream
 * @param <B> the record type of the second stream
 * @param <R> the output record type
 */
public abstract class CoMapFunction<A, B, R> extends OperatorFunction {

  /** For subclasses. */
  protected CoMapFunction() {
  }

  /**
   * Processes a record of the first stream.
   *
   * @param value the record
   * @return the record to emit; never {@code null}
   * @throws Exception to fail the record
   */
  public abstract R map1(A value) throws Exception;

  /**
   * Processes a record of the second stream.
   *
   * @param value the record
   * @return the record to emit; never {@code null}
   * @throws Exception to fail the record
   */
  public abstract R map2(B value) throws Exception;
}
