package io.sagebus;

import java.util.function.Function;

/**
 * Two streams read by one operator ({@link DataStream#connect(DataStream)}).
 *
 * @param <A> the record type of the first stream
 * @param <B> the record type of the second stream
 */
public interface ConnectedStreams<A, B> {

  /**
   * Maps the records of both streams with a function object.
   *
   * @param function the function
   * @param <R>      the output type
   * @return the mapped stream
   */
  <R> DataStream<R> coMap(CoMapFunction<A, B, R> function);

  /**
   * Maps the records of both streams with a function object, in parallel instances.
   *
   * @param function    the function
   * @param parallelism instances, at least 1
   * @param <R>         the output type
   * @return the mapped stream
   * @throws IllegalArgumentException when parallelism is below 1
   */
  <R> DataStream<R> coMap(CoMapFunction<A, B, R> function, int parallelism);

  /**
   * Maps the records of both streams with two lambdas.
   *
   * @param first  maps a record of the first stream
   * @param second maps a record of the second stream
   * @param <R>    the output type
   * @return the mapped stream
   */
  <R> DataStream<R> coMap(Function<? super A, ? extends R> first, Function<? super B, ? extends R> second);
}
