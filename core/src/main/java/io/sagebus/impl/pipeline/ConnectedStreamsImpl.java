package io.sagebus.impl.pipeline;

import io.sagebus.CoMapFunction;
import io.sagebus.ConnectedStreams;
import io.sagebus.DataStream;

import java.util.Objects;
import java.util.function.Function;

/**
 * Two streams read by one coMap operator.
 *
 * @param <A> the first stream's record type
 * @param <B> the second stream's record type
 */
final class ConnectedStreamsImpl<A, B> implements ConnectedStreams<A, B> {

  private final PipelineBuilder builder;
  private final DataStreamImpl<A> first;
  private final DataStreamImpl<B> second;

  ConnectedStreamsImpl(PipelineBuilder builder, DataStreamImpl<A> first, DataStreamImpl<B> second) {
    this.builder = builder;
    this.first = first;
    this.second = second;
  }

  @Override
  public <R> DataStream<R> coMap(CoMapFunction<A, B, R> function) {
    return coMap(function, 1);
  }

  @Override
  public <R> DataStream<R> coMap(CoMapFunction<A, B, R> function, int parallelism) {
    Objects.requireNonNull(function, "function");
    String label = function.getClass().isAnonymousClass() ? null : function.getClass().getSimpleName();
    LogicalNode node = builder.add(LogicalNode.Kind.CO_MAP, function, parallelism, label);
    DataStreamImpl.connect(node, first, 0);
    DataStreamImpl.connect(node, second, 1);
    return new DataStreamImpl<>(builder, node, null, false);
  }

  @Override
  public <R> DataStream<R> coMap(Function<? super A, ? extends R> firstMap, Function<? super B, ? extends R> secondMap) {
    Objects.requireNonNull(firstMap, "first");
    Objects.requireNonNull(secondMap, "second");
    return coMap(new CoMapFunction<A, B, R>() {
      @Override
      public R map1(A value) {
        return firstMap.apply(value);
      }

      @Override
      public R map2(B value) {
        return secondMap.apply(value);
      }
    }, 1);
  }
}
