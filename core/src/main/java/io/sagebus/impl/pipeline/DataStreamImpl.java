package io.sagebus.impl.pipeline;

import io.sagebus.AsyncFunction;
import io.sagebus.AsyncOrder;
import io.sagebus.CoMapFunction;
import io.sagebus.Collector;
import io.sagebus.ConnectedStreams;
import io.sagebus.DataStream;
import io.sagebus.DataStreamSink;
import io.sagebus.FailedRecord;
import io.sagebus.FilterFunction;
import io.sagebus.FlatMapFunction;
import io.sagebus.MapFunction;
import io.sagebus.OnError;
import io.sagebus.OperatorFunction;
import io.sagebus.RetryPolicy;
import io.sagebus.SinkFunction;
import io.sagebus.impl.registry.ServiceDefinition;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A stream under construction: the operator producing it, and the key for the next operator.
 *
 * @param <T> the record type
 */
final class DataStreamImpl<T> implements DataStream<T> {

  private final PipelineBuilder builder;
  private final LogicalNode node;
  private final Function<Object, Object> key;
  private final boolean failures;

  DataStreamImpl(PipelineBuilder builder, LogicalNode node, Function<Object, Object> key, boolean failures) {
    this.builder = builder;
    this.node = node;
    this.key = key;
    this.failures = failures;
  }

  LogicalNode node() {
    return node;
  }

  private static String label(Object function) {
    return function.getClass().isAnonymousClass() || function.getClass().isSynthetic()
      || function.getClass().getSimpleName().contains("$$Lambda") ? null : function.getClass().getSimpleName();
  }

  private <R> DataStreamImpl<R> then(LogicalNode.Kind kind, OperatorFunction function, int parallelism, String label) {
    LogicalNode next = builder.add(kind, Objects.requireNonNull(function, "function"), parallelism, label);
    connect(next, this, 0);
    return new DataStreamImpl<>(builder, next, null, false);
  }

  static void connect(LogicalNode consumer, DataStreamImpl<?> upstream, int inputIndex) {
    LogicalNode.Partitioning p = upstream.key != null ? LogicalNode.Partitioning.KEY
      : upstream.node.parallelism == consumer.parallelism ? LogicalNode.Partitioning.FORWARD
      : LogicalNode.Partitioning.REBALANCE;
    consumer.inputs.add(new LogicalNode.Input(upstream.node, p, upstream.key, inputIndex, upstream.failures));
  }

  @Override
  public <R> DataStream<R> map(MapFunction<? super T, ? extends R> function) {
    return map(function, 1);
  }

  @Override
  public <R> DataStream<R> map(MapFunction<? super T, ? extends R> function, int parallelism) {
    return then(LogicalNode.Kind.MAP, function, parallelism, label(Objects.requireNonNull(function, "function")));
  }

  @Override
  public <R> DataStream<R> map(Function<? super T, ? extends R> function) {
    return map(function, 1);
  }

  @Override
  public <R> DataStream<R> map(Function<? super T, ? extends R> function, int parallelism) {
    Objects.requireNonNull(function, "function");
    return then(LogicalNode.Kind.MAP, new MapFunction<T, R>() {
      @Override
      public R execute(T value) {
        return function.apply(value);
      }
    }, parallelism, null);
  }

  @Override
  public DataStream<T> filter(FilterFunction<? super T> function) {
    return filter(function, 1);
  }

  @Override
  public DataStream<T> filter(FilterFunction<? super T> function, int parallelism) {
    return then(LogicalNode.Kind.FILTER, function, parallelism, label(Objects.requireNonNull(function, "function")));
  }

  @Override
  public DataStream<T> filter(Predicate<? super T> predicate) {
    return filter(predicate, 1);
  }

  @Override
  public DataStream<T> filter(Predicate<? super T> predicate, int parallelism) {
    Objects.requireNonNull(predicate, "predicate");
    return then(LogicalNode.Kind.FILTER, new FilterFunction<T>() {
      @Override
      public boolean execute(T value) {
        return predicate.test(value);
      }
    }, parallelism, null);
  }

  @Override
  public <R> DataStream<R> flatMap(FlatMapFunction<? super T, R> function) {
    return flatMap(function, 1);
  }

  @Override
  public <R> DataStream<R> flatMap(FlatMapFunction<? super T, R> function, int parallelism) {
    return then(LogicalNode.Kind.FLAT_MAP, function, parallelism, label(Objects.requireNonNull(function, "function")));
  }

  @Override
  public <R> DataStream<R> flatMap(Function<? super T, ? extends Iterable<? extends R>> function) {
    return flatMap(function, 1);
  }

  @Override
  public <R> DataStream<R> flatMap(Function<? super T, ? extends Iterable<? extends R>> function, int parallelism) {
    Objects.requireNonNull(function, "function");
    return then(LogicalNode.Kind.FLAT_MAP, new FlatMapFunction<T, R>() {
      @Override
      public void execute(T value, Collector<R> out) {
        Iterable<? extends R> records = function.apply(value);
        if (records != null) {
          for (R r : records) {
            out.collect(r);
          }
        }
      }
    }, parallelism, null);
  }

  @Override
  public <R> DataStream<R> mapAsync(AsyncFunction<? super T, ? extends R> function, int capacity, AsyncOrder order) {
    return mapAsync(function, capacity, order, 1);
  }

  @Override
  public <R> DataStream<R> mapAsync(Function<? super T, Future<R>> function, int capacity, AsyncOrder order) {
    Objects.requireNonNull(function, "function");
    return mapAsync(new AsyncFunction<T, R>() {
      @Override
      public Future<R> execute(T value) {
        return function.apply(value);
      }
    }, capacity, order, 1);
  }

  @Override
  public <R> DataStream<R> mapAsync(AsyncFunction<? super T, ? extends R> function, int capacity, AsyncOrder order, int parallelism) {
    if (capacity < 1) {
      throw new IllegalArgumentException("The capacity of mapAsync must be at least 1, got " + capacity);
    }
    Objects.requireNonNull(order, "order");
    DataStreamImpl<R> out = this.<R>then(LogicalNode.Kind.MAP_ASYNC, function, parallelism,
      label(Objects.requireNonNull(function, "function")));
    out.node.asyncCapacity = capacity;
    out.node.asyncOrder = order;
    return out;
  }

  @Override
  public DataStreamSink<T> sink(SinkFunction<? super T> function) {
    return sink(function, 1);
  }

  @Override
  public DataStreamSink<T> sink(SinkFunction<? super T> function, int parallelism) {
    return new Sink<>(this, then(LogicalNode.Kind.SINK, function, parallelism,
      label(Objects.requireNonNull(function, "function"))));
  }

  @Override
  public DataStreamSink<T> sink(Consumer<? super T> consumer) {
    Objects.requireNonNull(consumer, "consumer");
    return new Sink<>(this, then(LogicalNode.Kind.SINK, new SinkFunction<T>() {
      @Override
      public void execute(T value) {
        consumer.accept(value);
      }
    }, 1, null));
  }

  @Override
  public DataStreamSink<T> print() {
    PrintStream out = System.out;
    return new Sink<>(this, then(LogicalNode.Kind.SINK, new SinkFunction<T>() {
      @Override
      public void execute(T value) {
        out.println(value instanceof JsonObject o ? o.encode() : value instanceof JsonArray a ? a.encode() : value);
      }
    }, 1, "print"));
  }

  /** A sink operator: what is said of it applies to its own node. */
  private static final class Sink<T> implements DataStreamSink<T> {
    private final DataStreamImpl<T> input;
    private final DataStreamImpl<?> sink;

    Sink(DataStreamImpl<T> input, DataStreamImpl<?> sink) {
      this.input = input;
      this.sink = sink;
    }

    @Override
    public DataStreamSink<T> name(String name) {
      sink.name(name);
      return this;
    }

    @Override
    public DataStreamSink<T> uses(String... services) {
      sink.uses(services);
      return this;
    }

    @Override
    public DataStreamSink<T> retry(RetryPolicy policy) {
      sink.retry(policy);
      return this;
    }

    @Override
    public DataStream<T> stream() {
      return input;
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public DataStream<T> keyBy(Function<? super T, ?> key) {
    Objects.requireNonNull(key, "key");
    return new DataStreamImpl<>(builder, node, (Function<Object, Object>) key, failures);
  }

  @Override
  public <U> ConnectedStreams<T, U> connect(DataStream<U> other) {
    if (!(other instanceof DataStreamImpl<U> o) || o.builder != builder) {
      throw new IllegalArgumentException("connect() needs a stream built on the same environment");
    }
    return new ConnectedStreamsImpl<>(builder, this, o);
  }

  @Override
  public DataStream<T> name(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("An operator name must not be blank");
    }
    node.name = name;
    return this;
  }

  @Override
  public DataStream<T> onError(OnError policy) {
    node.onError = Objects.requireNonNull(policy, "policy");
    return this;
  }

  @Override
  public DataStream<FailedRecord> failures() {
    if (node.kind.isSource()) {
      throw new IllegalArgumentException(node.name + " is a source: a failing source fails the job");
    }
    node.onError = OnError.SIDE_OUTPUT;
    return new DataStreamImpl<>(builder, node, null, true);
  }

  @Override
  public DataStream<T> uses(String... services) {
    for (String s : services) {
      node.uses.add(ServiceDefinition.checkName("service", s));
    }
    return this;
  }

  @Override
  public DataStream<T> retry(RetryPolicy policy) {
    node.retry = new RetryPolicy(Objects.requireNonNull(policy, "policy"));
    return this;
  }

  @Override
  public DataStream<T> nonBlocking() {
    if (node.kind != LogicalNode.Kind.MAP_ASYNC || failures) {
      throw new IllegalStateException("nonBlocking() declares a mapAsync function, and " + node.name + " is "
        + (failures ? "the side output of one" : "not a mapAsync"));
    }
    node.nonBlocking = true;
    return this;
  }
}
