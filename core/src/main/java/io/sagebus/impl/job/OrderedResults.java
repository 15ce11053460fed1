package io.sagebus.impl.job;

/** {@code mapAsync} results in input order: the emitter waits for the oldest call, whatever completed after it. */
final class OrderedResults extends AsyncResults {

  OrderedResults(int capacity) {
    super(capacity);
  }

  @Override
  void started(Pending p) throws InterruptedException {
    queue.put(p);
  }

  @Override
  Pending next() throws InterruptedException {
    Pending p = queue.take();
    if (p != Pending.LAST) {
      p.future.otherwiseEmpty().await(); // waits for it on the emitter's virtual thread, success or failure
    }
    return p;
  }

  @Override
  void finish() throws InterruptedException {
    queue.put(Pending.LAST);
  }
}
