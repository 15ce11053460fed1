package io.sagebus;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * Limits of one job: how many records may be in flight, how deep each operator's input queue is, and
 * which operators are chained.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them.
 */
public class JobOptions {

  /** Default cap on records between the sources and the sinks: 10,000. */
  public static final int DEFAULT_MAX_RECORDS_IN_FLIGHT = 10_000;
  /** Default depth of each operator instance's input queue: 256 records. */
  public static final int DEFAULT_QUEUE_CAPACITY = 256;
  /**
   * By default only a sink reading a {@code mapAsync} is chained to it ({@link Chaining#ASYNC_SINKS}); every other operator
   * instance has a queue and a thread of its own.
   */
  public static final Chaining DEFAULT_CHAINING = Chaining.ASYNC_SINKS;

  private int maxRecordsInFlight = DEFAULT_MAX_RECORDS_IN_FLIGHT;
  private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
  private Chaining chaining = DEFAULT_CHAINING;

  /** Options with the defaults. */
  public JobOptions() {
  }

  /**
   * Copy constructor.
   *
   * @param other the options to copy
   */
  public JobOptions(JobOptions other) {
    this.maxRecordsInFlight = other.maxRecordsInFlight;
    this.queueCapacity = other.queueCapacity;
    this.chaining = other.chaining;
  }

  /**
   * Reads options from JSON, as written by {@link #toJson()}; absent fields keep their defaults.
   *
   * @param json the JSON form ({@code chaining} may also be a boolean, as {@link #setChaining(boolean)} takes it)
   * @throws IllegalArgumentException when a value is out of range
   */
  public JobOptions(JsonObject json) {
    setMaxRecordsInFlight(json.getInteger("maxRecordsInFlight", DEFAULT_MAX_RECORDS_IN_FLIGHT));
    setQueueCapacity(json.getInteger("queueCapacity", DEFAULT_QUEUE_CAPACITY));
    Object mode = json.getValue("chaining");
    setChaining(mode == null ? DEFAULT_CHAINING : Chaining.fromJson(mode));
  }

  /**
   * {@return the JSON form}
   */
  public JsonObject toJson() {
    return new JsonObject().put("maxRecordsInFlight", maxRecordsInFlight).put("queueCapacity", queueCapacity)
      .put("chaining", chaining.toJson());
  }

  /**
   * {@return the cap on records between the sources and the sinks}
   */
  public int getMaxRecordsInFlight() {
    return maxRecordsInFlight;
  }

  /**
   * Sources wait while this many records are between them and the sinks. A flatMap that emits
   * several records for one, or a stream read by several operators, adds its extra records
   * without waiting (waiting there could deadlock), so the count may pass the cap by those.
   *
   * @param maxRecordsInFlight at least 1
   * @return this
   * @throws IllegalArgumentException when below 1
   */
  public JobOptions setMaxRecordsInFlight(int maxRecordsInFlight) {
    if (maxRecordsInFlight < 1) {
      throw new IllegalArgumentException("maxRecordsInFlight must be at least 1, got " + maxRecordsInFlight);
    }
    this.maxRecordsInFlight = maxRecordsInFlight;
    return this;
  }

  /**
   * {@return the depth of each operator instance's input queue}
   */
  public int getQueueCapacity() {
    return queueCapacity;
  }

  /**
   * Sets the depth of each operator instance's input queue.
   *
   * @param queueCapacity records each operator instance's input queue holds; an upstream
   *                      operator waits while it is full. At least 1.
   * @return this
   * @throws IllegalArgumentException when below 1
   */
  public JobOptions setQueueCapacity(int queueCapacity) {
    if (queueCapacity < 1) {
      throw new IllegalArgumentException("queueCapacity must be at least 1, got " + queueCapacity);
    }
    this.queueCapacity = queueCapacity;
    return this;
  }

  /**
   * {@return which operators are chained}
   */
  public Chaining getChaining() {
    return chaining;
  }

  /**
   * {@return whether every operator that can be is chained ({@link Chaining#ALL})}
   */
  public boolean isChaining() {
    return chaining == Chaining.ALL;
  }

  /**
   * Says which operators are chained. A chained operator is one whose only input comes from an operator of the same
   * parallelism without a key or a rebalance: its instance i runs on the thread of its upstream's instance i, which
   * hands it each record by a method call, with no queue and no thread hop between them (what a mapAsync emits goes on
   * from its emitter thread, or from the thread that starts its calls while it waits for a free slot). Each function
   * still sees its own operator, and fails the job in its own name. Not chained, an operator instance has a queue and a
   * virtual thread of its own: one that blocks holds only itself until its queue is full, and consecutive operators work
   * on different records at once. By default ({@link Chaining#ASYNC_SINKS}) only a sink reading a {@code mapAsync} is
   * chained.
   *
   * @param chaining which operators are chained
   * @return this
   */
  public JobOptions setChaining(Chaining chaining) {
    this.chaining = Objects.requireNonNull(chaining, "chaining");
    return this;
  }

  /**
   * Chains every operator that can be ({@link Chaining#ALL}, as Flink chains them by default: a source and the operators
   * after it, down to its sink, then run on one thread, the cheapest way through, but a function that blocks then holds
   * every operator of its chain, up to the source), or none ({@link Chaining#NONE}).
   *
   * @param chaining {@code true} for {@link Chaining#ALL}, {@code false} for {@link Chaining#NONE}; the default is
   *                 {@link Chaining#ASYNC_SINKS}
   * @return this
   */
  public JobOptions setChaining(boolean chaining) {
    return setChaining(chaining ? Chaining.ALL : Chaining.NONE);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JobOptions that && maxRecordsInFlight == that.maxRecordsInFlight
      && queueCapacity == that.queueCapacity && chaining == that.chaining;
  }

  @Override
  public int hashCode() {
    return (31 * maxRecordsInFlight + queueCapacity) * 3 + chaining.ordinal();
  }

  @Override
  public String toString() {
    return "JobOptions" + toJson().encode();
  }
}
