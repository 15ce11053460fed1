package io.sagebus.impl.call;

import io.sagebus.impl.ThreadStripes;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The request ids of one client: a random prefix, a dash and a number no other call of the client has. The numbers
 * come from a few counters, each on cache lines of its own, chosen by the calling thread: a job's operators calling
 * on several threads at once do not all increment one counter (on 2 cores that shared counter was a visible part of
 * a call). A number is {@code count * STRIPES + stripe}, so two stripes never give the same one.
 */
final class RequestIds {

  private static final int STRIPE_BITS = 3;
  /** Counters. */
  private static final int STRIPES = 1 << STRIPE_BITS;
  /** Longs per counter: 128 bytes, so that no two counters share a cache line (or a prefetched pair of lines). */
  private static final int SPACING = 16;

  private final String prefix = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16) + "-";
  private final AtomicLongArray counters = new AtomicLongArray(STRIPES * SPACING);

  /** {@return a new request id} */
  String next() {
    int stripe = ThreadStripes.current(STRIPE_BITS);
    long count = counters.incrementAndGet(stripe * SPACING);
    return prefix + (count * STRIPES + stripe);
  }
}
