package io.sagebus.impl.job;

import java.util.concurrent.ConcurrentLinkedQueue;

/** {@code mapAsync} results as their calls complete. */
final class UnorderedResults extends AsyncResults {

  /** Completed calls, in completion order: added by whichever thread completes them. */
  private final ConcurrentLinkedQueue<Pending> done = new ConcurrentLinkedQueue<>();

  UnorderedResults(int capacity) {
    super(capacity);
  }

  @Override
  void started(Pending p) {
    p.future.onComplete(ar -> {
      done.add(p);
      wake();
    });
  }

  @Override
  Pending poll() {
    return done.poll();
  }

  @Override
  boolean ready() {
    return !done.isEmpty();
  }

  @Override
  void finish() throws InterruptedException {
    // Every started call must have been emitted (its slot released) before the end goes out.
    slots.acquire(capacity());
    done.add(Pending.LAST);
    wake();
  }
}
