package io.sagebus.testing;

import java.util.concurrent.atomic.AtomicInteger;

/** Sleeps (on its virtual thread) before answering. */
public class SlowService {

  private final AtomicInteger started = new AtomicInteger();

  /**
   * {@return {@code millis}}
   *
   * @param millis how long to take
   * @throws InterruptedException when interrupted
   */
  public long process(long millis) throws InterruptedException {
    started.incrementAndGet();
    Thread.sleep(millis);
    return millis;
  }

  /**
   * {@return how many calls began}
   */
  public int started() {
    return started.get();
  }
}
