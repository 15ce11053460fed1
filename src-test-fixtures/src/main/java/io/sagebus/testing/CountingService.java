package io.sagebus.testing;

import java.util.concurrent.atomic.AtomicInteger;

/** Counts calls; can be shared between instances through the counter it is given. */
public class CountingService {

  private final AtomicInteger count;

  /** A counter of its own. */
  public CountingService() {
    this(new AtomicInteger());
  }

  /**
   * @param count a shared counter
   */
  public CountingService(AtomicInteger count) {
    this.count = count;
  }

  /**
   * {@return the count after this call}
   */
  public int process() {
    return count.incrementAndGet();
  }
}
