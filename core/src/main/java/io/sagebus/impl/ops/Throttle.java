package io.sagebus.impl.ops;

import io.github.bucket4j.Bucket;
import io.sagebus.RateLimit;

import java.time.Duration;

/**
 * The callers' rate limit of one service in one JVM: a Bucket4j token bucket holding
 * {@code burst} permits, refilled greedily at {@code callsPerSecond}. It only counts: it holds no
 * thread and no timer, so nothing is left to close when its registration goes.
 */
public final class Throttle {

  private final RateLimit limit;
  private final Bucket bucket;

  /**
   * A full bucket.
   *
   * @param limit the limit (copied)
   */
  public Throttle(RateLimit limit) {
    this.limit = new RateLimit(limit);
    // burst permits per burst / rate seconds is the rate; at least 1 ns of period.
    long periodNanos = Math.max(1, Math.round(this.limit.getBurst() * 1e9 / this.limit.getCallsPerSecond()));
    this.bucket = Bucket.builder()
      .withNanosecondPrecision() // System.nanoTime: monotonic, and fine enough for spacing calls 1 ms apart
      .addLimit(b -> b.capacity(this.limit.getBurst()).refillGreedy(this.limit.getBurst(), Duration.ofNanos(periodNanos)))
      .build();
  }

  /**
   * {@return the limit}
   */
  public RateLimit limit() {
    return limit;
  }

  /**
   * Reserves one permit if it comes within {@code maxWaitNanos}.
   *
   * @param maxWaitNanos the longest the caller can wait; positive
   * @return nanoseconds to wait before sending (0 when a permit was free), or -1 when none comes in time (nothing reserved)
   */
  public long reserve(long maxWaitNanos) {
    // Bucket4j reserves a future permit only through its blocking API, which then asks the strategy to
    // park for the wait: this strategy records the wait instead, and the caller waits on a Vert.x timer.
    long[] wait = {0};
    boolean reserved = bucket.asBlocking().tryConsumeUninterruptibly(1, maxWaitNanos, nanos -> wait[0] = nanos);
    return reserved ? Math.max(0, wait[0]) : -1;
  }

  /**
   * {@return about how long a call asking now would wait for a permit, in nanoseconds; reserves nothing}
   */
  public long estimateWaitNanos() {
    return bucket.estimateAbilityToConsume(1).getNanosToWaitForRefill();
  }
}
