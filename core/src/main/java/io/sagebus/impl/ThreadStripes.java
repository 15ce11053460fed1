package io.sagebus.impl;

/**
 * Which of a few stripes (counters, slots, lists, each on its own cache line) the calling thread uses, so that
 * threads calling at once (a job's operator instances) mostly touch different ones: the thread's id, mixed
 * (Fibonacci hashing), so that threads made one after another spread.
 */
public final class ThreadStripes {

  private ThreadStripes() {
  }

  /**
   * {@return the current thread's stripe, from 0 to {@code 2^bits - 1}}
   *
   * @param bits the stripes, as a power of two: 1 to 30
   */
  public static int current(int bits) {
    return (int) ((Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L) >>> (64 - bits));
  }
}
