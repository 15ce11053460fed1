package io.sagebus;

import io.vertx.core.json.JsonObject;

/**
 * Limits of one job: how many records may be in flight, and how deep each operator's input queue is.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them.
 */
public class JobOptions {

  /** Default cap on records between the sources and the sinks: 10,000. */
  public static final int DEFAULT_MAX_RECORDS_IN_FLIGHT = 10_000;
  /** Default depth of each operator instance's input queue: 256 records. */
  public static final int DEFAULT_QUEUE_CAPACITY = 256;

  private int maxRecordsInFlight = DEFAULT_MAX_RECORDS_IN_FLIGHT;
  private int queueCapacity = DEFAULT_QUEUE_CAPACITY;

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
  }

  /**
   * {@return the JSON form}
   */
  public JsonObject toJson() {
    return new JsonObject().put("maxRecordsInFlight", maxRecordsInFlight).put("queueCapacity", queueCapacity);
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

  @Override
  public boolean equals(Object o) {
    return o instanceof JobOptions that && maxRecordsInFlight == that.maxRecordsInFlight
      && queueCapacity == that.queueCapacity;
  }

  @Override
  public int hashCode() {
    return 31 * maxRecordsInFlight + queueCapacity;
  }

  @Override
  public String toString() {
    return "JobOptions" + toJson().encode();
  }
}
