package io.sagebus.cluster;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What reached a job's sink: how often each record id arrived, and the longest gap between two
 * records after a mark (a kill or a leave).
 */
final class SinkWatch implements Consumer<Integer> {

  private final int records;
  private final AtomicIntegerArray seen;
  private final AtomicInteger done = new AtomicInteger();
  private final AtomicLong last = new AtomicLong(System.nanoTime());
  private final AtomicLong markedAt = new AtomicLong();
  private final AtomicLong longestStall = new AtomicLong();
  private final AtomicLong longestGapBefore = new AtomicLong();

  SinkWatch(int records) {
    this.records = records;
    this.seen = new AtomicIntegerArray(records);
  }

  @Override
  public void accept(Integer value) {
    seen.incrementAndGet(value);
    done.incrementAndGet();
    long now = System.nanoTime();
    long previous = last.getAndSet(now);
    long mark = markedAt.get();
    if (mark != 0) {
      longestStall.accumulateAndGet(now - Math.max(previous, mark), Math::max);
    } else if (done.get() > 1) {
      longestGapBefore.accumulateAndGet(now - previous, Math::max);
    }
  }

  int done() {
    return done.get();
  }

  /** From now on, gaps count toward {@link #longestStallMillis()}. */
  void mark() {
    markedAt.compareAndSet(0, System.nanoTime());
  }

  long longestStallMillis() {
    return TimeUnit.NANOSECONDS.toMillis(longestStall.get());
  }

  /** {@return the longest gap between two records before the mark: the same run's baseline} */
  long longestGapBeforeMarkMillis() {
    return TimeUnit.NANOSECONDS.toMillis(longestGapBefore.get());
  }

  /** {@return ids that never arrived} */
  int lost() {
    return lost(records);
  }

  /** {@return ids below {@code produced} that never arrived: for a source that stopped before its last id} */
  int lost(int produced) {
    int n = 0;
    for (int i = 0; i < produced; i++) {
      n += seen.get(i) == 0 ? 1 : 0;
    }
    return n;
  }

  /** {@return arrivals beyond the first, over all ids} */
  int duplicated() {
    int n = 0;
    for (int i = 0; i < records; i++) {
      n += Math.max(0, seen.get(i) - 1);
    }
    return n;
  }

  void assertEveryRecordOnce() {
    assertEveryRecordOnce(records);
  }

  /** For a source that made {@code made} records, ids 0 to {@code made - 1}, out of the capacity this watch has. */
  void assertEveryRecordOnce(int made) {
    assertThat(made).as("records made, within the watch's capacity").isLessThanOrEqualTo(records);
    int lost = 0;
    int duplicated = 0;
    for (int i = 0; i < made; i++) {
      lost += seen.get(i) == 0 ? 1 : 0;
      duplicated += Math.max(0, seen.get(i) - 1);
    }
    assertThat(lost).as("records lost").isZero();
    assertThat(duplicated).as("records duplicated").isZero();
    assertThat(done()).isEqualTo(made);
  }
}
