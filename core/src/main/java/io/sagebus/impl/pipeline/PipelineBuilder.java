package io.sagebus.impl.pipeline;

import io.sagebus.BatchFunction;
import io.sagebus.DataStream;
import io.sagebus.OperatorFunction;
import io.sagebus.SourceFunction;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * The operators built on an environment since its last submit.
 */
public final class PipelineBuilder {

  private final List<LogicalNode> pending = new ArrayList<>();
  private int nextId = 1;

  /** An empty builder. */
  public PipelineBuilder() {
  }

  /**
   * Starts a stream from a finite source.
   *
   * @param function the batch
   * @param label    a label for the operator's name, or {@code null}
   * @param <T>      the record type
   * @return the stream
   */
  public synchronized <T> DataStream<T> batch(BatchFunction<T> function, String label) {
    return new DataStreamImpl<>(this, add(LogicalNode.Kind.BATCH, Objects.requireNonNull(function, "function"), 1,
      label), null, false);
  }

  /**
   * Starts a stream from an iterator.
   *
   * @param iterator the records
   * @param label    a label for the operator's name
   * @param <T>      the record type
   * @return the stream
   */
  public <T> DataStream<T> batch(Iterator<? extends T> iterator, String label) {
    Objects.requireNonNull(iterator, "iterator");
    return batch(new BatchFunction<T>() {
      @Override
      public T execute() {
        return iterator.hasNext() ? Objects.requireNonNull(iterator.next(),
          "the batch holds a null record: null records are not allowed") : null;
      }
    }, label);
  }

  /**
   * Starts a stream from a source function.
   *
   * @param function the source
   * @param <T>      the record type
   * @return the stream
   */
  public synchronized <T> DataStream<T> source(SourceFunction<T> function) {
    return new DataStreamImpl<>(this, add(LogicalNode.Kind.SOURCE, Objects.requireNonNull(function, "function"), 1,
      function.getClass().getSimpleName()), null, false);
  }

  synchronized LogicalNode add(LogicalNode.Kind kind, OperatorFunction function, int parallelism, String label) {
    LogicalNode node = new LogicalNode(nextId++, kind, function, parallelism, label);
    pending.add(node);
    return node;
  }

  /**
   * Takes every operator built since the last call.
   *
   * @return the operators, in the order they were built (inputs before their consumers)
   */
  public synchronized List<LogicalNode> drain() {
    List<LogicalNode> nodes = List.copyOf(pending);
    pending.clear();
    return nodes;
  }
}
