package io.sagebus.testing;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Holds every call inside the method until the test releases it, and counts how many are inside
 * together: proves concurrency, and keeps calls executing while a test undeploys the service.
 */
public class LatchService {

  private final CountDownLatch release;
  private final AtomicInteger inside;
  private final AtomicInteger maxInside;

  /**
   * @param release   calls wait for it
   * @param inside    how many calls are inside now
   * @param maxInside the most calls inside at once
   */
  public LatchService(CountDownLatch release, AtomicInteger inside, AtomicInteger maxInside) {
    this.release = release;
    this.inside = inside;
    this.maxInside = maxInside;
  }

  /**
   * {@return {@code value} once released}
   *
   * @param value anything
   * @throws InterruptedException when interrupted
   */
  public Object process(Object value) throws InterruptedException {
    maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
    try {
      if (!release.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released the latch");
      }
      return value;
    } finally {
      inside.decrementAndGet();
    }
  }
}
