package io.sagebus;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * How many calls per second the callers in one JVM may send to a service, set with
 * {@link ServiceOptions#setRateLimit(RateLimit)}.
 * <p>
 * The limit is a token bucket (Bucket4j) that holds {@link #getBurst()} permits and refills
 * {@link #getCallsPerSecond()} per second; it starts full. A call takes one permit before it is
 * sent (its retries take none). When none is free the call waits for the next one, without
 * blocking any thread, as long as its budget (its timeout) lasts; a call whose budget would run
 * out first fails at once with {@link ServiceThrottledException} and is not sent. Over any
 * window of {@code t} seconds at most {@code burst + callsPerSecond * t} calls are sent.
 * <p>
 * The limit holds per calling JVM: in a cluster of {@code n} JVMs calling the same service, up
 * to {@code n} times the rate reaches it.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them.
 */
public class RateLimit {

  /** Default calls per second: 10. */
  public static final double DEFAULT_CALLS_PER_SECOND = 10;
  /** Default burst: 1 permit, so calls are spaced evenly, {@code 1 / callsPerSecond} apart. */
  public static final int DEFAULT_BURST = 1;
  /** The highest rate accepted: 1,000,000 calls per second. */
  public static final double MAX_CALLS_PER_SECOND = 1_000_000;

  private double callsPerSecond = DEFAULT_CALLS_PER_SECOND;
  private int burst = DEFAULT_BURST;

  /** A limit with the defaults. */
  public RateLimit() {
  }

  /**
   * Copy constructor.
   *
   * @param other the limit to copy
   */
  public RateLimit(RateLimit other) {
    this.callsPerSecond = other.callsPerSecond;
    this.burst = other.burst;
  }

  /**
   * Reads a limit from JSON, as written by {@link #toJson()}; absent fields keep their defaults.
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is out of range
   */
  public RateLimit(JsonObject json) {
    Number rate = json.getNumber("callsPerSecond", DEFAULT_CALLS_PER_SECOND);
    setCallsPerSecond(rate.doubleValue());
    setBurst(json.getInteger("burst", DEFAULT_BURST));
  }

  /**
   * {@return a limit of {@code callsPerSecond} calls per second with a burst of {@code burst}}
   *
   * @param callsPerSecond the rate, see {@link #setCallsPerSecond(double)}
   * @param burst          the burst, see {@link #setBurst(int)}
   * @throws IllegalArgumentException when a value is out of range
   */
  public static RateLimit create(double callsPerSecond, int burst) {
    return new RateLimit().setCallsPerSecond(callsPerSecond).setBurst(burst);
  }

  /**
   * {@return the JSON form, read back by {@link #RateLimit(JsonObject)}}
   */
  public JsonObject toJson() {
    return new JsonObject().put("callsPerSecond", callsPerSecond).put("burst", burst);
  }

  /**
   * {@return the calls per second the bucket refills}
   */
  public double getCallsPerSecond() {
    return callsPerSecond;
  }

  /**
   * {@return this}
   *
   * @param callsPerSecond the sustained rate, calls per second; positive (below 1 for less than one call a
   *                       second, such as 0.5) and at most {@link #MAX_CALLS_PER_SECOND}
   * @throws IllegalArgumentException when not positive, not finite or above the maximum
   */
  public RateLimit setCallsPerSecond(double callsPerSecond) {
    if (!(callsPerSecond > 0) || callsPerSecond > MAX_CALLS_PER_SECOND) {
      throw new IllegalArgumentException("callsPerSecond must be positive and at most " + (long) MAX_CALLS_PER_SECOND
        + ", got " + callsPerSecond);
    }
    this.callsPerSecond = callsPerSecond;
    return this;
  }

  /**
   * {@return how many permits the bucket holds: the calls that may go at once after a quiet spell}
   */
  public int getBurst() {
    return burst;
  }

  /**
   * {@return this}
   *
   * @param burst how many permits the bucket holds (and holds at the start): the calls that may be sent at once
   *              after a quiet spell; at least 1
   * @throws IllegalArgumentException when below 1
   */
  public RateLimit setBurst(int burst) {
    if (burst < 1) {
      throw new IllegalArgumentException("burst must be at least 1, got " + burst);
    }
    this.burst = burst;
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RateLimit that && Double.compare(callsPerSecond, that.callsPerSecond) == 0
      && burst == that.burst;
  }

  @Override
  public int hashCode() {
    return Objects.hash(callsPerSecond, burst);
  }

  @Override
  public String toString() {
    return "RateLimit" + toJson().encode();
  }
}
