package io.sagebus.impl.job;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * {@code mapAsync} results in input order: the emitter waits for the oldest call, whatever completed
 * after it. Only the oldest call's completion wakes a waiting emitter.
 */
final class OrderedResults extends AsyncResults {

  /** Started calls, oldest first; one thread adds, the emitter takes. */
  private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
  /** The oldest call whose completion wakes the waiter (read and written in the role only). */
  private Pending listened;

  OrderedResults(int capacity) {
    super(capacity);
  }

  @Override
  void started(Pending p) {
    queue.add(p);
    if (queue.peek() == p) {
      wake(); // the waiter may wait on an empty queue: this is its new oldest call
    }
  }

  @Override
  Pending poll() {
    Pending head = queue.peek();
    if (head != null && (head == Pending.LAST || head.future.isComplete())) {
      return queue.poll();
    }
    return null;
  }

  @Override
  boolean ready() {
    Pending head = queue.peek();
    return head != null && (head == Pending.LAST || head.future.isComplete());
  }

  @Override
  void beforePark() {
    Pending head = queue.peek();
    if (head != null && head != listened) {
      listened = head;
      // Runs at once when it completed meanwhile: the permit makes the park return, and the waiter looks again.
      head.future.onComplete(ar -> wake());
    }
  }

  @Override
  void finish() {
    started(Pending.LAST);
  }
}
