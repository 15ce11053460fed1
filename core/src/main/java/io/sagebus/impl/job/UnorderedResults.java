package io.sagebus.impl.job;

/** {@code mapAsync} results as their calls complete. */
final class UnorderedResults extends AsyncResults {

  UnorderedResults(int capacity) {
    super(capacity);
  }

  @Override
  void started(Pending p) {
    p.future.onComplete(ar -> queue.add(p));
  }

  @Override
  Pending next() throws InterruptedException {
    return queue.take();
  }

  @Override
  void finish() throws InterruptedException {
    // Every started call must have been emitted (its slot released) before the end goes out.
    slots.acquire(capacity());
    queue.put(Pending.LAST);
  }
}
