package io.sagebus.testing;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Hangs (never answers in time) for its first {@code failures} calls, then answers. Shows that a
 * retried call succeeds and keeps its request id. Shared state lives in the given counter, so a
 * test can read it.
 */
public class FlakyService {

  private final int failures;
  private final AtomicInteger calls;

  /**
   * @param failures how many calls hang first
   * @param calls    counts every call, shared with the test
   */
  public FlakyService(int failures, AtomicInteger calls) {
    this.failures = failures;
    this.calls = calls;
  }

  /**
   * {@return {@code value} once the first calls have hung}
   *
   * @param value anything
   * @throws InterruptedException when interrupted (the task's drain does that)
   */
  public Object process(Object value) throws InterruptedException {
    if (calls.incrementAndGet() <= failures) {
      Thread.sleep(60_000);
    }
    return value;
  }
}
