package io.sagebus.cluster;

import io.sagebus.BatchFunction;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A source for jobs that must run through whatever a test does meanwhile (a scale-up, a roll): records
 * 0, 1, 2... until {@link #stop()}, then the end of the batch.
 */
final class EndlessSource extends BatchFunction<Integer> {
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final AtomicInteger made = new AtomicInteger();

  @Override
  public Integer execute() {
    return stopped.get() ? null : made.getAndIncrement();
  }

  /** Ends the batch after the record being made. */
  void stop() {
    stopped.set(true);
  }

  /** {@return how many records it has made} */
  int made() {
    return made.get();
  }
}
