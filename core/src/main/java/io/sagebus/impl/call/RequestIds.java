package io.sagebus.impl.call;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The request ids of one client: a random prefix, a dash and a number no other call of the client has. The numbers
 * come from a few counters, each on cache lines of its own, chosen by the calling thread: a job's operators calling
 * on several threads at once do not all increment one counter (on 2 cores that shared counter was a visible part of
 * a call). A number is {@code count * STRIPES + stripe}, so two stripes never give the same one.
 */
final class RequestIds {

  /** Counters, a power of two. */
  private static final int STRIPES = 8;
  /** Longs per counter: 128 bytes, so that no two counters share a cache line (or a prefetched pair of lines). */
  private static final int SPACING = 16;

  private final String prefix = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16) + "-";
  private final AtomicLongArray counters = new AtomicLongArray(STRIPES * SPACING);

  /** {@return a new request id} */
  String next() {
    int stripe = stripe(Thread.currentThread().threadId());
    long count = counters.incrementAndGet(stripe * SPACING);
    return prefix + (count * STRIPES + stripe);
  }

  /**
   * {@return the counter of a thread, 0 to 7: its id, mixed, so that threads made one after another spread (also the
   * first slot a thread tries in a {@link Cancellation})}
   *
   * @param threadId the thread's id
   */
  static int stripe(long threadId) {
    long h = threadId * 0x9E3779B97F4A7C15L;
    return (int) (h >>> 61) & (STRIPES - 1);
  }
}
