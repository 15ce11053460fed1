package io.sagebus;

import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.Objects;

/**
 * How a service instance gathers concurrent calls of one method into one invocation (dynamic
 * batching), set per method with {@link ServiceOptions#setBatching(String, BatchPolicy)} or
 * declared on the method with {@link Batched}.
 * <p>
 * A batched method takes exactly one {@code List} and returns a {@code List} of the same length
 * (or a {@code Future}/{@code CompletionStage} of one). Callers still call it per item
 * ({@code call("embed", text)}); the instance collects the items that arrive while it waits and
 * invokes the method once with all of them, then answers each caller with its element. A batch
 * closes when it holds {@link #getMaxSize()} items, or else when its first item has waited
 * {@link #getMaxWait()} at most: sooner as soon as less than one more item is expected within the
 * rest of that wait (at once for a lone caller that waits for each answer before its next call; see
 * {@link #setMaxWait(Duration)}; {@link #setAdaptiveWait(boolean) setAdaptiveWait(false)} turns that off), and
 * sooner when waiting longer would spend the budget of its tightest member (its deadline less the observed
 * invocation time). At most
 * {@link #getMaxConcurrentBatches()} batches of the method run at once per instance.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them.
 */
public class BatchPolicy {

  /** Default most items per batch: 32. */
  public static final int DEFAULT_MAX_SIZE = 32;
  /** Default longest time the first item of a batch may wait for others: 5 ms. */
  public static final Duration DEFAULT_MAX_WAIT = Duration.ofMillis(5);
  /** Default batches of one method running at once per instance: 1. */
  public static final int DEFAULT_MAX_CONCURRENT_BATCHES = 1;
  /** The largest batch accepted: 10,000 items. */
  public static final int MAX_SIZE_LIMIT = 10_000;
  /** The longest wait accepted: 60 s. */
  public static final Duration MAX_WAIT_LIMIT = Duration.ofSeconds(60);

  private int maxSize = DEFAULT_MAX_SIZE;
  private Duration maxWait = DEFAULT_MAX_WAIT;
  private int maxConcurrentBatches = DEFAULT_MAX_CONCURRENT_BATCHES;
  private boolean adaptiveWait = true;

  /** A policy with the defaults. */
  public BatchPolicy() {
  }

  /**
   * Copy constructor.
   *
   * @param other the policy to copy
   */
  public BatchPolicy(BatchPolicy other) {
    this.maxSize = other.maxSize;
    this.maxWait = other.maxWait;
    this.maxConcurrentBatches = other.maxConcurrentBatches;
    this.adaptiveWait = other.adaptiveWait;
  }

  /**
   * Reads a policy from JSON, as written by {@link #toJson()}; absent fields keep their defaults.
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is out of range
   */
  public BatchPolicy(JsonObject json) {
    setMaxSize(json.getInteger("maxSize", DEFAULT_MAX_SIZE));
    setMaxWait(Duration.ofNanos(json.getLong("maxWaitMicros", DEFAULT_MAX_WAIT.toNanos() / 1000) * 1000));
    setMaxConcurrentBatches(json.getInteger("maxConcurrentBatches", DEFAULT_MAX_CONCURRENT_BATCHES));
    Object adaptive = json.getValue("adaptiveWait");
    if (adaptive != null && !(adaptive instanceof Boolean)) {
      throw new IllegalArgumentException("adaptiveWait must be true or false, got " + adaptive);
    }
    setAdaptiveWait(adaptive == null || (Boolean) adaptive);
  }

  /**
   * {@return a policy of batches of at most {@code maxSize} items, the first waiting at most {@code maxWait}}
   *
   * @param maxSize the most items per batch, see {@link #setMaxSize(int)}
   * @param maxWait the longest wait, see {@link #setMaxWait(Duration)}
   * @throws IllegalArgumentException when a value is out of range
   */
  public static BatchPolicy create(int maxSize, Duration maxWait) {
    return new BatchPolicy().setMaxSize(maxSize).setMaxWait(maxWait);
  }

  /**
   * {@return the policy a {@link Batched} annotation declares}
   *
   * @param batched the annotation
   * @throws IllegalArgumentException when a value is out of range
   */
  public static BatchPolicy of(Batched batched) {
    return new BatchPolicy().setMaxSize(batched.maxSize()).setMaxWait(Duration.ofMillis(batched.maxWaitMs()))
      .setMaxConcurrentBatches(batched.maxConcurrentBatches()).setAdaptiveWait(batched.adaptiveWait());
  }

  /**
   * {@return the JSON form, read back by {@link #BatchPolicy(JsonObject)}}
   */
  public JsonObject toJson() {
    return new JsonObject().put("maxSize", maxSize).put("maxWaitMicros", maxWait.toNanos() / 1000)
      .put("maxConcurrentBatches", maxConcurrentBatches).put("adaptiveWait", adaptiveWait);
  }

  /**
   * {@return the most items in one invocation}
   */
  public int getMaxSize() {
    return maxSize;
  }

  /**
   * {@return this}
   *
   * @param maxSize the most items one invocation gets: from 1 to {@link #MAX_SIZE_LIMIT}; a batch that holds
   *                this many closes at once
   * @throws IllegalArgumentException when out of range
   */
  public BatchPolicy setMaxSize(int maxSize) {
    if (maxSize < 1 || maxSize > MAX_SIZE_LIMIT) {
      throw new IllegalArgumentException("maxSize must be from 1 to " + MAX_SIZE_LIMIT + ", got " + maxSize);
    }
    this.maxSize = maxSize;
    return this;
  }

  /**
   * {@return the longest time the first item of a batch may wait for more, see {@link #setMaxWait(Duration)}}
   */
  public Duration getMaxWait() {
    return maxWait;
  }

  /**
   * Sets the longest a batch waits for more items, counted from its first item's arrival at the instance: a bound,
   * not a fixed delay. The instance learns the rate of the items that arrive while it is busy (while an item
   * waits for its batch or a batch's method runs; an exponentially weighted mean over its last batches) and
   * closes a batch as soon as less than one more item is expected within the rest of the wait: at
   * {@code maxWait} less the mean gap between such items. Items that keep coming (a trickle, many callers) thus
   * keep a batch waiting to about {@code maxWait}; a caller that waits for each answer before sending its next
   * item never sends one while its own waits or runs, so once the instance has seen that, its batches go at once
   * and it pays no wait. Until the method's first batch closed nothing is known, and a batch waits the full
   * {@code maxWait}; with {@link #setAdaptiveWait(boolean) setAdaptiveWait(false)} every batch that is not full
   * does.
   *
   * @param maxWait the longest time the first item of a batch may wait for more items, counted from its arrival
   *                at the instance: zero (a batch takes only what waits already) up to {@link #MAX_WAIT_LIMIT};
   *                microseconds are kept, finer parts dropped
   * @return this
   * @throws IllegalArgumentException when null, negative or above the limit
   */
  public BatchPolicy setMaxWait(Duration maxWait) {
    if (maxWait == null || maxWait.isNegative() || maxWait.compareTo(MAX_WAIT_LIMIT) > 0) {
      throw new IllegalArgumentException("maxWait must be from 0 to " + MAX_WAIT_LIMIT.toSeconds() + " s, got "
        + maxWait);
    }
    this.maxWait = Duration.ofNanos(maxWait.toNanos() / 1000 * 1000);
    return this;
  }

  /**
   * {@return how many batches of the method one instance runs at once}
   */
  public int getMaxConcurrentBatches() {
    return maxConcurrentBatches;
  }

  /**
   * {@return this}
   *
   * @param maxConcurrentBatches how many batches of the method one instance runs at once; at least 1. Above 1
   *                             the method must be thread-safe. While all run, new items wait (counted against the
   *                             instance's {@code maxConcurrency + maxQueued}) and go in the next batch
   * @throws IllegalArgumentException when below 1
   */
  public BatchPolicy setMaxConcurrentBatches(int maxConcurrentBatches) {
    if (maxConcurrentBatches < 1) {
      throw new IllegalArgumentException("maxConcurrentBatches must be at least 1, got " + maxConcurrentBatches);
    }
    this.maxConcurrentBatches = maxConcurrentBatches;
    return this;
  }

  /**
   * {@return whether a batch that is not full may go before {@link #getMaxWait()}, when no more items are expected}
   */
  public boolean isAdaptiveWait() {
    return adaptiveWait;
  }

  /**
   * Sets whether the wait adapts to the items that arrive (the default), see {@link #setMaxWait(Duration)}: a batch
   * goes as soon as less than one more item is expected within the rest of its wait, so a lone sequential caller
   * pays no wait. {@code false} makes every batch that is not full wait its {@code maxWait} from its first item, as
   * Ray Serve's {@code @serve.batch} and Triton's dynamic batcher wait their configured delay: fuller batches when
   * items come in bursts the rate does not predict, at the cost of {@code maxWait} more for a caller alone. A batch
   * still goes early when waiting would spend its tightest member's budget.
   *
   * @param adaptiveWait {@code false} to wait the full {@code maxWait} for a batch that is not full
   * @return this
   */
  public BatchPolicy setAdaptiveWait(boolean adaptiveWait) {
    this.adaptiveWait = adaptiveWait;
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BatchPolicy that && maxSize == that.maxSize && maxWait.equals(that.maxWait)
      && maxConcurrentBatches == that.maxConcurrentBatches && adaptiveWait == that.adaptiveWait;
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxSize, maxWait, maxConcurrentBatches, adaptiveWait);
  }

  @Override
  public String toString() {
    return "BatchPolicy" + toJson().encode();
  }
}
