package io.sagebus.impl.job;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An operator's record counters: records in, records out, records failed, one set per instance, summed when read.
 * <p>
 * Each instance's counters are written by one thread at a time (the instance's own; for a chained instance its
 * upstream's; for a {@code mapAsync} whichever thread holds its emitting role, handed on under a lock), so a count
 * is a plain add published with an opaque write, not a compare-and-set, and readers (progress, meters) read it
 * opaquely. Each instance's set sits on cache lines of its own: counters of neighbouring operators, written by other
 * threads for every record, would otherwise share lines and bounce them between the cores.
 */
final class NodeStats {

  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  /** Longs between two instances' sets, and around them: 128 bytes, two cache lines. */
  private static final int STRIDE = 16;
  private static final int IN = 0;
  private static final int OUT = 1;
  private static final int ERRORS = 2;

  private final int instances;
  private final long[] counts;

  /**
   * @param instances the operator's parallelism
   */
  NodeStats(int instances) {
    this.instances = instances;
    this.counts = new long[(instances + 2) * STRIDE];
  }

  private static int slot(int instance, int counter) {
    return (instance + 1) * STRIDE + counter;
  }

  private void add(int instance, int counter) {
    int i = slot(instance, counter);
    LONGS.setOpaque(counts, i, (long) LONGS.getOpaque(counts, i) + 1);
  }

  private long sum(int counter) {
    long s = 0;
    for (int i = 0; i < instances; i++) {
      s += (long) LONGS.getOpaque(counts, slot(i, counter));
    }
    return s;
  }

  /** One record entered instance {@code instance}. */
  void in(int instance) {
    add(instance, IN);
  }

  /** Instance {@code instance} emitted one record. */
  void out(int instance) {
    add(instance, OUT);
  }

  /** Instance {@code instance} failed on one record. */
  void error(int instance) {
    add(instance, ERRORS);
  }

  /** {@return records that entered the operator} */
  long in() {
    return sum(IN);
  }

  /** {@return records the operator emitted} */
  long out() {
    return sum(OUT);
  }

  /** {@return records the operator failed on} */
  long errors() {
    return sum(ERRORS);
  }
}
