package io.sagebus;

import io.vertx.core.json.JsonObject;

/**
 * Limits of one job: how many records may be in flight, how deep each operator's input queue is, and
 * whether operators are chained.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them.
 */
public class JobOptions {

  /** Default cap on records between the sources and the sinks: 10,000. */
  public static final int DEFAULT_MAX_RECORDS_IN_FLIGHT = 10_000;
  /** Default depth of each operator instance's input queue: 256 records. */
  public static final int DEFAULT_QUEUE_CAPACITY = 256;
  /** Operators are not chained by default: {@code false} (each instance has a queue and a thread of its own). */
  public static final boolean DEFAULT_CHAINING = false;

  private int maxRecordsInFlight = DEFAULT_MAX_RECORDS_IN_FLIGHT;
  private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
  private boolean chaining = DEFAULT_CHAINING;

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
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is out of range
   */
  public JobOptions(JsonObject json) {
    setMaxRecordsInFlight(json.getInteger("maxRecordsInFlight", DEFAULT_MAX_RECORDS_IN_FLIGHT));
    setQueueCapacity(json.getInteger("queueCapacity", DEFAULT_QUEUE_CAPACITY));
    setChaining(json.getBoolean("chaining", DEFAULT_CHAINING));
  }

  /**
   * {@return the JSON form}
   */
  public JsonObject toJson() {
    return new JsonObject().put("maxRecordsInFlight", maxRecordsInFlight).put("queueCapacity", queueCapacity)
      .put("chaining", chaining);
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
   * {@return whether operators are chained}
   */
  public boolean isChaining() {
    return chaining;
  }

  /**
   * Says whether operators are chained, as Flink chains them by default. A chained operator is one whose
   * only input comes from an operator of the same parallelism without a key or a rebalance: its instance
   * i runs on the thread of its upstream's instance i, which hands it each record by a method call, with
   * no queue and no thread hop between them. A source and the operators after it, down to its sink, then
   * run on one thread (what a mapAsync emits goes on from its emitter thread, or from the thread that
   * starts its calls while it waits for a free slot): the cheapest way through, but a function that
   * blocks (a sync call, I/O) then holds every operator of its chain, up to the source. Unchained (the
   * default), every operator instance has a queue and a virtual thread of its own: an operator that
   * blocks holds only itself until its queue is full, and consecutive operators work on different
   * records at once.
   *
   * @param chaining {@code true} to chain; {@code false} by default
   * @return this
   */
  public JobOptions setChaining(boolean chaining) {
    this.chaining = chaining;
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JobOptions that && maxRecordsInFlight == that.maxRecordsInFlight
      && queueCapacity == that.queueCapacity && chaining == that.chaining;
  }

  @Override
  public int hashCode() {
    return (31 * maxRecordsInFlight + queueCapacity) * 2 + (chaining ? 1 : 0);
  }

  @Override
  public String toString() {
    return "JobOptions" + toJson().encode();
  }
}
