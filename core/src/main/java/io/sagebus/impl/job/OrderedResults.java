package io.sagebus.impl.job;

import io.vertx.core.Future;

/**
 * {@code mapAsync} results in input order: the emitter waits for the oldest call, whatever completed
 * after it. Only the oldest call's completion wakes a waiting emitter.
 * <p>
 * The started calls wait in a ring of {@code capacity + 1} places, oldest first: the thread that starts calls adds at
 * the tail, the role holder takes at the head. A call holds a slot from before it is added until after it was taken
 * and emitted, so at most {@code capacity} calls are in the ring, and the end marker has the last place. No object is
 * made per call. Where calls start where earlier ones end (one thread at a time), the ring has {@code 2 * capacity + 1}
 * places, as many as there are places for calls started and not emitted, and the end marker's.
 */
final class OrderedResults extends AsyncResults {

  private final Object[] records;
  private final Future<?>[] futures;
  /** How many calls were added; written by the starting thread only. */
  private volatile long tail;
  /** How many calls were taken; written in the role only, read by any thread. */
  private volatile long head;
  /** The oldest call's Future, whose completion wakes the waiter (read and written in the role only). */
  private Future<?> listened;

  OrderedResults(int capacity, boolean startsWhereCallsEnd) {
    super(capacity, startsWhereCallsEnd);
    // With calls started where earlier ones end, up to twice the capacity wait for their emission.
    int places = startsWhereCallsEnd ? 2 * capacity : capacity;
    records = new Object[places + 1];
    futures = new Future<?>[places + 1];
  }

  @Override
  @SuppressWarnings("unchecked")
  void started(Object record, Future<?> future) {
    if (record != LAST && startsWhereCallsEnd()) {
      ((Future<Object>) future).onComplete(ended);
    }
    long t = tail;
    int i = (int) (t % records.length);
    records[i] = record;
    futures[i] = future;
    tail = t + 1; // publishes the place to the role holder
    if (head == t) {
      wake(); // the waiter may wait on an empty ring: this is its new oldest call
    }
  }

  @Override
  int emitNext(Emitter out) throws InterruptedException {
    long h = head;
    if (h == tail) {
      return 0;
    }
    int i = (int) (h % records.length);
    Object record = records[i];
    Future<?> future = futures[i];
    if (record != LAST && !future.isComplete()) {
      return 0;
    }
    records[i] = null;
    futures[i] = null;
    head = h + 1;
    if (record == LAST) {
      return -1;
    }
    out.emit(record, future);
    return 1;
  }

  @Override
  boolean ready() {
    long h = head;
    if (h == tail) {
      return false;
    }
    int i = (int) (h % records.length);
    Object record = records[i];
    Future<?> future = futures[i];
    // Read after the head: a place taken meanwhile (by the role holder, as this thread may be out of the role) is
    // empty or holds a later call, and the head then moved: look again.
    if (h != head) {
      return true;
    }
    return record == LAST || (future != null && future.isComplete());
  }

  @Override
  void beforePark() {
    long h = head;
    if (h == tail) {
      return;
    }
    Future<?> oldest = futures[(int) (h % records.length)];
    if (oldest != null && oldest != listened) {
      listened = oldest;
      // Runs at once when it completed meanwhile: the permit makes the park return, and the waiter looks again.
      oldest.onComplete(ar -> wake());
    }
  }

  @Override
  void finish() {
    started(LAST, null);
  }
}
