package io.sagebus;

import io.vertx.core.json.JsonArray;

import java.util.Arrays;

/**
 * An immutable histogram of durations in microseconds, such as the execution times of a service's
 * calls ({@link ServiceStats#executionTimes()}), from which percentiles are read.
 * <p>
 * Its {@value #BUCKETS} buckets are fixed: exact from 0 to 7 µs, then eight per power of two, so
 * a bucket is at most 12.5% wide (durations over 2<sup>40</sup> µs, about 12 days, count in the
 * last one). A percentile is the upper bound of the bucket that holds it: at most 12.5% above the
 * true value, never below it. Histograms are counts since some start (a service's registration),
 * so the calls of an interval are {@code later.minus(earlier)} of two snapshots, and histograms of
 * several instances or nodes add up bucket by bucket.
 */
public final class LatencyHistogram {

  /** The number of buckets. */
  public static final int BUCKETS = 304;
  /** The largest duration with a bucket of its own, in microseconds: larger ones count in the last bucket. */
  public static final long MAX_MICROS = (1L << 40) - 1;
  private static final LatencyHistogram EMPTY = new LatencyHistogram(new long[BUCKETS], 0);

  private final long[] counts;
  private final long count;

  private LatencyHistogram(long[] counts, long count) {
    this.counts = counts;
    this.count = count;
  }

  /**
   * {@return the histogram with no duration in it}
   */
  public static LatencyHistogram empty() {
    return EMPTY;
  }

  /**
   * {@return a histogram of counts per bucket}
   *
   * @param counts the count of each bucket, indexed as {@link #bucketOf(long)} does (copied; a shorter array
   *               leaves the last buckets empty)
   * @throws IllegalArgumentException when it has more than {@value #BUCKETS} counts or a negative one
   */
  public static LatencyHistogram of(long[] counts) {
    if (counts.length > BUCKETS) {
      throw new IllegalArgumentException("A latency histogram has " + BUCKETS + " buckets, got " + counts.length);
    }
    long[] copy = Arrays.copyOf(counts, BUCKETS);
    long sum = 0;
    for (long c : copy) {
      if (c < 0) {
        throw new IllegalArgumentException("A bucket count is negative: " + c);
      }
      sum += c;
    }
    return new LatencyHistogram(copy, sum);
  }

  /**
   * {@return the bucket a duration counts in, from 0 to {@value #BUCKETS} - 1}
   *
   * @param micros a duration in microseconds (a negative one counts as 0)
   */
  public static int bucketOf(long micros) {
    if (micros < 8) {
      return micros <= 0 ? 0 : (int) micros;
    }
    long v = Math.min(micros, MAX_MICROS);
    int exponent = 63 - Long.numberOfLeadingZeros(v);
    int sub = (int) (v >>> (exponent - 3)) - 8;
    return 8 + (exponent - 3) * 8 + sub;
  }

  /**
   * {@return the largest duration a bucket holds, in microseconds (the last bucket holds all larger ones too)}
   *
   * @param bucket a bucket, from 0 to {@value #BUCKETS} - 1
   * @throws IllegalArgumentException for another number
   */
  public static long upperBound(int bucket) {
    if (bucket < 0 || bucket >= BUCKETS) {
      throw new IllegalArgumentException("No bucket " + bucket + ": buckets are 0 to " + (BUCKETS - 1));
    }
    if (bucket < 8) {
      return bucket;
    }
    int shift = (bucket - 8) / 8;
    int sub = (bucket - 8) % 8;
    return ((9L + sub) << shift) - 1;
  }

  /**
   * {@return how many durations it holds}
   */
  public long count() {
    return count;
  }

  /**
   * {@return how many durations a bucket holds}
   *
   * @param bucket a bucket, from 0 to {@value #BUCKETS} - 1
   */
  public long count(int bucket) {
    return counts[bucket];
  }

  /**
   * The duration under which a share of the durations lie: {@code percentile(0.5)} is the median,
   * {@code percentile(0.99)} the 99th percentile.
   *
   * @param quantile the share, from 0 to 1
   * @return the upper bound of the bucket that holds it, in microseconds; 0 when the histogram is empty
   * @throws IllegalArgumentException when the share is outside 0 to 1
   */
  public long percentile(double quantile) {
    if (!(quantile >= 0 && quantile <= 1)) {
      throw new IllegalArgumentException("A quantile is from 0 to 1, got " + quantile);
    }
    if (count == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(quantile * count));
    long seen = 0;
    for (int b = 0; b < BUCKETS; b++) {
      seen += counts[b];
      if (seen >= rank) {
        return upperBound(b);
      }
    }
    return upperBound(BUCKETS - 1);
  }

  /**
   * {@return the durations counted since an earlier snapshot of the same histogram: this one's counts less its
   *     counts, bucket by bucket (never below 0)}
   *
   * @param earlier an earlier snapshot
   */
  public LatencyHistogram minus(LatencyHistogram earlier) {
    long[] diff = new long[BUCKETS];
    for (int b = 0; b < BUCKETS; b++) {
      diff[b] = Math.max(0, counts[b] - earlier.counts[b]);
    }
    return of(diff);
  }

  /**
   * {@return both histograms' durations: their counts added bucket by bucket}
   *
   * @param other another histogram
   */
  public LatencyHistogram plus(LatencyHistogram other) {
    long[] sum = new long[BUCKETS];
    for (int b = 0; b < BUCKETS; b++) {
      sum[b] = counts[b] + other.counts[b];
    }
    return of(sum);
  }

  /**
   * {@return the JSON form, read back by {@link #fromJson(JsonArray)}: the buckets that hold durations, in order,
   *     each as {@code [upperBoundMicros, count]}}
   */
  public JsonArray toJson() {
    JsonArray json = new JsonArray();
    for (int b = 0; b < BUCKETS; b++) {
      if (counts[b] > 0) {
        json.add(new JsonArray().add(upperBound(b)).add(counts[b]));
      }
    }
    return json;
  }

  /**
   * {@return the histogram}
   *
   * @param json the form written by {@link #toJson()}, or {@code null} for the empty histogram
   * @throws IllegalArgumentException when an entry is not a pair of numbers or a count is negative
   */
  public static LatencyHistogram fromJson(JsonArray json) {
    if (json == null) {
      return EMPTY;
    }
    long[] counts = new long[BUCKETS];
    try {
      for (int i = 0; i < json.size(); i++) {
        JsonArray pair = json.getJsonArray(i);
        counts[bucketOf(pair.getLong(0))] += pair.getLong(1);
      }
    } catch (ClassCastException | NullPointerException | IndexOutOfBoundsException e) {
      throw new IllegalArgumentException("Not a latency histogram: " + e.getMessage(), e);
    }
    return of(counts);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LatencyHistogram h && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(counts);
  }

  @Override
  public String toString() {
    return "LatencyHistogram{count=" + count + ", p50=" + percentile(0.5) + "us, p99=" + percentile(0.99) + "us}";
  }
}
