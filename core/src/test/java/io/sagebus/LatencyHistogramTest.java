package io.sagebus;

import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LatencyHistogramTest {

  private static LatencyHistogram of(long... micros) {
    long[] counts = new long[LatencyHistogram.BUCKETS];
    for (long m : micros) {
      counts[LatencyHistogram.bucketOf(m)]++;
    }
    return LatencyHistogram.of(counts);
  }

  @Test
  void bucketsAreExactBelowEightThenAtMostAnEighthWide() {
    for (long v = 0; v < 8; v++) {
      assertThat(LatencyHistogram.upperBound(LatencyHistogram.bucketOf(v))).isEqualTo(v);
    }
    assertThat(LatencyHistogram.bucketOf(-5)).isZero();
    long previousUpper = -1;
    for (int b = 0; b < LatencyHistogram.BUCKETS; b++) {
      long upper = LatencyHistogram.upperBound(b);
      long lower = previousUpper + 1;
      assertThat(upper).isGreaterThanOrEqualTo(lower);
      assertThat(LatencyHistogram.bucketOf(lower)).isEqualTo(b);
      assertThat(LatencyHistogram.bucketOf(upper)).isEqualTo(b);
      if (lower < 8) {
        assertThat(upper).isEqualTo(lower);
      } else {
        assertThat((double) (upper - lower + 1) / lower).as("bucket %d [%d, %d]", b, lower, upper)
          .isLessThanOrEqualTo(0.125);
      }
      previousUpper = upper;
    }
    assertThat(previousUpper).isEqualTo(LatencyHistogram.MAX_MICROS);
    assertThat(LatencyHistogram.bucketOf(Long.MAX_VALUE)).isEqualTo(LatencyHistogram.BUCKETS - 1);
    assertThatThrownBy(() -> LatencyHistogram.upperBound(LatencyHistogram.BUCKETS))
      .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void percentilesAreTheUpperBoundOfTheirBucket() {
    long[] micros = new long[100];
    for (int i = 0; i < 100; i++) {
      micros[i] = 1000 + i * 10; // 1,000 to 1,990 us
    }
    LatencyHistogram h = of(micros);
    assertThat(h.count()).isEqualTo(100);
    long p50 = h.percentile(0.5); // the 50th value: 1,490 us
    assertThat(p50).isBetween(1490L, (long) (1490 * 1.125));
    long p99 = h.percentile(0.99); // the 99th: 1,980 us
    assertThat(p99).isBetween(1980L, (long) (1980 * 1.125));
    assertThat(h.percentile(0)).isBetween(1000L, 1125L);
    assertThat(LatencyHistogram.empty().percentile(0.99)).isZero();
    assertThatThrownBy(() -> h.percentile(1.5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> h.percentile(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anIntervalIsTheDifferenceOfTwoSnapshots() {
    LatencyHistogram earlier = of(10, 10, 10);
    LatencyHistogram later = earlier.plus(of(5000, 5000));
    LatencyHistogram interval = later.minus(earlier);
    assertThat(interval.count()).isEqualTo(2);
    assertThat(interval.percentile(0.5)).isBetween(5000L, 5625L);
    assertThat(later.percentile(0.5)).isEqualTo(10);
  }

  @Test
  void roundTripsThroughJsonAsSparseBuckets() {
    LatencyHistogram h = of(0, 3, 3, 250, 1_000_000);
    JsonArray json = h.toJson();
    assertThat(json).hasSize(4);
    assertThat(json.getJsonArray(1)).isEqualTo(new JsonArray().add(3).add(2));
    assertThat(LatencyHistogram.fromJson(json)).isEqualTo(h);
    assertThat(LatencyHistogram.fromJson(null)).isEqualTo(LatencyHistogram.empty());
    assertThatThrownBy(() -> LatencyHistogram.fromJson(new JsonArray().add("x")))
      .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> LatencyHistogram.of(new long[] {-1})).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aServicesStatisticsCarryItsExecutionTimes() {
    LatencyHistogram h = of(100, 200, 300);
    ServiceStats stats = new ServiceStats("s", 1, 3, 3, java.util.Map.of(), 0, 0, 0, 200, 300, 0, 0, 0, 0, 0, 0, 0, 0,
      null, h);
    assertThat(stats.p50ExecutionMicros()).isBetween(200L, 225L);
    assertThat(stats.p99ExecutionMicros()).isBetween(300L, 338L);
    assertThat(stats.toJson().getLong("p99ExecutionMicros")).isEqualTo(stats.p99ExecutionMicros());
    assertThat(ServiceStats.fromJson(stats.toJson())).isEqualTo(stats);
    ServiceStats without = new ServiceStats("s", 1, 0, 0, java.util.Map.of(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      null);
    assertThat(without.executionTimes()).isEqualTo(LatencyHistogram.empty());
  }
}
