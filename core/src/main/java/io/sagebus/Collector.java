package io.sagebus;

/**
 * Where a {@link FlatMapFunction} or {@link SourceFunction} emits records. Emitting may block
 * while downstream operators are full: that is the pipeline's backpressure.
 *
 * @param <T> the record type
 */
@FunctionalInterface
public interface Collector<T> {

  /**
   * Emits one record downstream.
   *
   * @param record the record; not {@code null}
   * @throws NullPointerException when {@code record} is null
   */
  void collect(T record);
}
