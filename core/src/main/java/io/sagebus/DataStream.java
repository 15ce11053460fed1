package io.sagebus;

import io.vertx.core.Future;

import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A stream of records in a pipeline under construction. Each method adds an operator and returns
 * the stream it produces; nothing runs until {@link Environment#submit()}.
 * <p>
 * Operators take a function object (a subclass of {@link MapFunction}, {@link FilterFunction},
 * ...) or a lambda, and an optional parallelism (default 1). Each operator instance runs on a
 * virtual thread of its own, so functions may call services synchronously. Records move between
 * operator instances over bounded in-JVM queues ({@link JobOptions#getQueueCapacity()}); a full
 * queue holds the upstream operator back, down to the source. A chained operator ({@link Chaining}: by
 * default a sink reading a {@code mapAsync}, with {@link JobOptions#setChaining(boolean)} every operator
 * whose only input comes from an operator of the same parallelism, no key, no rebalance) has no queue
 * or thread: its instance i runs on upstream instance i's thread, handed each record by a method call.
 * Records are handed over, not copied: treat them as immutable.
 * <p>
 * The settings methods ({@link #name(String)}, {@link #onError(OnError)}, {@link #uses(String...)},
 * {@link #retry(RetryPolicy)}) apply to the operator that produced this stream.
 *
 * @param <T> the record type
 */
public interface DataStream<T> {

  /**
   * Maps each record with a function object.
   *
   * @param function the function; shared by the instances
   * @param <R>      the output type
   * @return the mapped stream
   */
  <R> DataStream<R> map(MapFunction<? super T, ? extends R> function);

  /**
   * Maps each record with a function object, in parallel instances.
   *
   * @param function    the function; shared by the instances, so thread-safe when parallelism &gt; 1
   * @param parallelism instances, at least 1
   * @param <R>         the output type
   * @return the mapped stream
   * @throws IllegalArgumentException when parallelism is below 1
   */
  <R> DataStream<R> map(MapFunction<? super T, ? extends R> function, int parallelism);

  /**
   * Maps each record with a lambda.
   *
   * @param function the mapping; must not return {@code null}
   * @param <R>      the output type
   * @return the mapped stream
   */
  <R> DataStream<R> map(Function<? super T, ? extends R> function);

  /**
   * Maps each record with a lambda, in parallel instances.
   *
   * @param function    the mapping; must not return {@code null}
   * @param parallelism instances, at least 1
   * @param <R>         the output type
   * @return the mapped stream
   * @throws IllegalArgumentException when parallelism is below 1
   */
  <R> DataStream<R> map(Function<? super T, ? extends R> function, int parallelism);

  /**
   * Keeps the records the function object accepts.
   *
   * @param function the filter
   * @return the filtered stream
   */
  DataStream<T> filter(FilterFunction<? super T> function);

  /**
   * Keeps the records the function object accepts, in parallel instances.
   *
   * @param function    the filter
   * @param parallelism instances, at least 1
   * @return the filtered stream
   * @throws IllegalArgumentException when parallelism is below 1
   */
  DataStream<T> filter(FilterFunction<? super T> function, int parallelism);

  /**
   * Keeps the records the predicate accepts.
   *
   * @param predicate the filter
   * @return the filtered stream
   */
  DataStream<T> filter(Predicate<? super T> predicate);

  /**
   * Keeps the records the predicate accepts, in parallel instances.
   *
   * @param predicate   the filter
   * @param parallelism instances, at least 1
   * @return the filtered stream
   * @throws IllegalArgumentException when parallelism is below 1
   */
  DataStream<T> filter(Predicate<? super T> predicate, int parallelism);

  /**
   * Maps each record to zero or more records with a function object.
   *
   * @param function the function
   * @param <R>      the output type
   * @return the stream of emitted records
   */
  <R> DataStream<R> flatMap(FlatMapFunction<? super T, R> function);

  /**
   * Maps each record to zero or more records with a function object, in parallel instances.
   *
   * @param function    the function
   * @param parallelism instances, at least 1
   * @param <R>         the output type
   * @return the stream of emitted records
   * @throws IllegalArgumentException when parallelism is below 1
   */
  <R> DataStream<R> flatMap(FlatMapFunction<? super T, R> function, int parallelism);

  /**
   * Maps each record to the records of an {@code Iterable} (a list, say).
   *
   * @param function the mapping; an empty result drops the record
   * @param <R>      the output type
   * @return the stream of emitted records
   */
  <R> DataStream<R> flatMap(Function<? super T, ? extends Iterable<? extends R>> function);

  /**
   * Maps each record to the records of an {@code Iterable}, in parallel instances.
   *
   * @param function    the mapping
   * @param parallelism instances, at least 1
   * @param <R>         the output type
   * @return the stream of emitted records
   * @throws IllegalArgumentException when parallelism is below 1
   */
  <R> DataStream<R> flatMap(Function<? super T, ? extends Iterable<? extends R>> function, int parallelism);

  /**
   * Maps each record through a {@link Future} (a service called with {@code callServiceAsync}),
   * with at most {@code capacity} records in flight per instance, as Flink's Async I/O does.
   *
   * @param function the asynchronous mapping
   * @param capacity records in flight per instance, at least 1
   * @param order    whether results keep the input order
   * @param <R>      the output type
   * @return the mapped stream
   * @throws IllegalArgumentException when capacity is below 1
   */
  <R> DataStream<R> mapAsync(AsyncFunction<? super T, ? extends R> function, int capacity, AsyncOrder order);

  /**
   * Like {@link #mapAsync(AsyncFunction, int, AsyncOrder)}, with a lambda returning a Future.
   *
   * @param function the asynchronous mapping
   * @param capacity records in flight per instance, at least 1
   * @param order    whether results keep the input order
   * @param <R>      the output type
   * @return the mapped stream
   * @throws IllegalArgumentException when capacity is below 1
   */
  <R> DataStream<R> mapAsync(Function<? super T, Future<R>> function, int capacity, AsyncOrder order);

  /**
   * Like {@link #mapAsync(AsyncFunction, int, AsyncOrder)}, in parallel instances.
   *
   * @param function    the asynchronous mapping
   * @param capacity    records in flight per instance, at least 1
   * @param order       whether results keep the input order
   * @param parallelism instances, at least 1
   * @param <R>         the output type
   * @return the mapped stream
   * @throws IllegalArgumentException when capacity or parallelism is below 1
   */
  <R> DataStream<R> mapAsync(AsyncFunction<? super T, ? extends R> function, int capacity, AsyncOrder order, int parallelism);

  /**
   * Consumes each record with a function object.
   *
   * @param function the sink
   * @return the sink, to name it or declare what it calls ({@link DataStreamSink#stream()} gives this stream back)
   */
  DataStreamSink<T> sink(SinkFunction<? super T> function);

  /**
   * Consumes each record with a function object, in parallel instances.
   *
   * @param function    the sink
   * @param parallelism instances, at least 1
   * @return the sink
   * @throws IllegalArgumentException when parallelism is below 1
   */
  DataStreamSink<T> sink(SinkFunction<? super T> function, int parallelism);

  /**
   * Consumes each record with a lambda.
   *
   * @param consumer the sink
   * @return the sink
   */
  DataStreamSink<T> sink(Consumer<? super T> consumer);

  /**
   * Prints each record on standard output, one line each ({@code toString()}; JSON for Vert.x JSON types).
   *
   * @return the sink
   */
  DataStreamSink<T> print();

  /**
   * Partitions this stream by key for the next operator: records with equal keys go to the same
   * instance of it.
   *
   * @param key the key of a record; equal keys by {@code equals}/{@code hashCode}
   * @return a stream whose next operator is keyed
   */
  DataStream<T> keyBy(Function<? super T, ?> key);

  /**
   * Connects two streams for an operator that reads both ({@link ConnectedStreams#coMap}).
   *
   * @param other the second stream
   * @param <U>   its record type
   * @return the connected streams
   */
  <U> ConnectedStreams<T, U> connect(DataStream<U> other);

  /**
   * Names the operator that produced this stream (for results, errors and logs).
   *
   * @param name a short name
   * @return this stream
   */
  DataStream<T> name(String name);

  /**
   * Says what the operator that produced this stream does with a record its function fails on.
   *
   * @param policy fail the job (default), skip the record, or send it to {@link #failures()}
   * @return this stream
   */
  DataStream<T> onError(OnError policy);

  /**
   * The records the operator that produced this stream failed on, as {@link FailedRecord}s.
   * Using it sets that operator's error policy to {@link OnError#SIDE_OUTPUT}.
   *
   * @return the side output stream
   */
  DataStream<FailedRecord> failures();

  /**
   * Declares the services the operator that produced this stream calls. {@code submit()} fails
   * with {@link ServiceNotFoundException} when one is not registered.
   *
   * @param services service names
   * @return this stream
   */
  DataStream<T> uses(String... services);

  /**
   * Retries the service calls that the operator's function makes without options
   * ({@code callService(name, args)}), marking them retryable.
   *
   * @param policy the retry policy
   * @return this stream
   */
  DataStream<T> retry(RetryPolicy policy);

  /**
   * Declares that the function of the {@code mapAsync} that produced this stream never blocks: it only starts work
   * and returns its Future (a {@code callServiceAsync}, a Vert.x client's request), as a Vert.x handler does; no sync
   * {@code callService}, no sleeping, no blocking I/O or lock, no {@code Future.await()}. Its instances then start a
   * record's call also where an earlier call of theirs completed, not only on their own virtual thread: on that call's
   * event loop, in a task of its own right after the completing one, or inline on the thread that completed it
   * otherwise. A service answering on its event loop then gets the next call in the same run of that loop, without
   * waking the operator's thread nor being woken by it: the operator's thread only emits the results. Everything else
   * stays: records start in input order, {@link AsyncOrder} holds, at most {@code capacity} calls are in flight; a
   * completed call's place goes to the next call at once, and up to {@code capacity} more completed results wait for
   * the operator's thread to emit them.
   * <p>
   * A sync {@code callService} from the function fails with {@link IllegalStateException} where it runs on an event
   * loop (the record fails as the operator's {@link OnError} policy says). With {@link Chaining#ALL}, which hands a
   * {@code mapAsync} its records on its upstream's thread, it changes nothing. Like {@link NonBlocking} for a service
   * method.
   *
   * @return this stream
   * @throws IllegalStateException when the operator that produced this stream is not a {@code mapAsync}
   */
  DataStream<T> nonBlocking();
}
