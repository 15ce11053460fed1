package io.sagebus.impl.pipeline;

import io.sagebus.AsyncOrder;
import io.sagebus.OnError;
import io.sagebus.OperatorFunction;
import io.sagebus.RetryPolicy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * One operator of a logical pipeline, as the user built it: its function, parallelism, inputs
 * and settings. Mutable only while the pipeline is being built (its settings methods).
 */
public final class LogicalNode {

  /** What an operator does. */
  public enum Kind {
    /** {@code fromBatch}: a finite source. */
    BATCH,
    /** {@code fromSource}: a source that runs until it returns or the job is cancelled. */
    SOURCE,
    /** {@code map}. */
    MAP,
    /** {@code filter}. */
    FILTER,
    /** {@code flatMap}. */
    FLAT_MAP,
    /** {@code mapAsync}. */
    MAP_ASYNC,
    /** {@code coMap} over connected streams. */
    CO_MAP,
    /** {@code sink} and {@code print}. */
    SINK;

    /** {@return whether the operator is a source (a batch or a streaming source)} */
    public boolean isSource() {
      return this == BATCH || this == SOURCE;
    }
  }

  /** How records of an input edge are spread over the instances of the consuming operator. */
  public enum Partitioning {
    /** Instance i to instance i (same parallelism). */
    FORWARD,
    /** Round robin. */
    REBALANCE,
    /** By the hash of a key: equal keys, same instance. */
    KEY
  }

  /**
   * An input edge.
   *
   * @param from         the upstream operator
   * @param partitioning how records are spread
   * @param key          the key selector for {@link Partitioning#KEY}, else {@code null}
   * @param inputIndex   0, or 1 for the second input of a coMap
   * @param failures     {@code true} when the edge carries the upstream's failed records (its side output)
   */
  public record Input(LogicalNode from, Partitioning partitioning, Function<Object, Object> key, int inputIndex,
                      boolean failures) {
  }

  final int id;
  final Kind kind;
  final OperatorFunction function;
  final int parallelism;
  final List<Input> inputs = new ArrayList<>();
  final Set<String> uses = new LinkedHashSet<>();
  String name;
  OnError onError = OnError.FAIL;
  RetryPolicy retry;
  int asyncCapacity;
  AsyncOrder asyncOrder;
  boolean nonBlocking;

  LogicalNode(int id, Kind kind, OperatorFunction function, int parallelism, String label) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("The parallelism of " + kind.name().toLowerCase() + " must be at least 1, got "
        + parallelism);
    }
    this.id = id;
    this.kind = kind;
    this.function = function;
    this.parallelism = parallelism;
    this.name = defaultName(kind, id, label);
  }

  private static String defaultName(Kind kind, int id, String label) {
    String k = switch (kind) {
      case BATCH -> "batch";
      case SOURCE -> "source";
      case MAP -> "map";
      case FILTER -> "filter";
      case FLAT_MAP -> "flatMap";
      case MAP_ASYNC -> "mapAsync";
      case CO_MAP -> "coMap";
      case SINK -> "sink";
    };
    return k + "#" + id + (label == null || label.isEmpty() ? "" : "(" + label + ")");
  }

  /**
   * {@return the operator's name}
   */
  public String name() {
    return name;
  }

  /**
   * {@return what the operator does}
   */
  public Kind kind() {
    return kind;
  }

  /**
   * {@return the operator's number of instances}
   */
  public int parallelism() {
    return parallelism;
  }

  /**
   * {@return the operator's input edges}
   */
  public List<Input> inputs() {
    return inputs;
  }

  /**
   * {@return the services the operator declared it calls}
   */
  public Set<String> uses() {
    return uses;
  }

  /**
   * {@return the user's function the operator runs}
   */
  public OperatorFunction function() {
    return function;
  }

  /**
   * {@return what the operator does with a record whose function failed}
   */
  public OnError onError() {
    return onError;
  }

  /**
   * {@return the operator's retry policy for failed records, or {@code null}}
   */
  public RetryPolicy retry() {
    return retry;
  }

  /**
   * {@return the calls a {@code mapAsync} operator keeps in flight, else 0}
   */
  public int asyncCapacity() {
    return asyncCapacity;
  }

  /**
   * {@return the order in which a {@code mapAsync} operator emits its results, else {@code null}}
   */
  public AsyncOrder asyncOrder() {
    return asyncOrder;
  }

  /**
   * {@return whether a {@code mapAsync}'s function was declared non-blocking ({@link io.sagebus.DataStream#nonBlocking()}):
   * its calls may then start where earlier ones completed}
   */
  public boolean nonBlocking() {
    return nonBlocking;
  }
}
