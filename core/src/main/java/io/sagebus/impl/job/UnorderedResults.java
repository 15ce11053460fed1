package io.sagebus.impl.job;

import io.vertx.core.Future;

import java.util.concurrent.ConcurrentLinkedQueue;

/** {@code mapAsync} results as their calls complete. */
final class UnorderedResults extends AsyncResults {

  /** A record handed to {@code mapAsync}, and the Future of its call. */
  private record Pending(Object record, Future<?> future) {
  }

  /** Marks the end in {@link #done}. */
  private static final Pending END = new Pending(LAST, null);

  /** Completed calls, in completion order: added by whichever thread completes them. */
  private final ConcurrentLinkedQueue<Pending> done = new ConcurrentLinkedQueue<>();

  UnorderedResults(int capacity, boolean startsWhereCallsEnd) {
    super(capacity, startsWhereCallsEnd);
  }

  @Override
  void started(Object record, Future<?> future) {
    Pending p = new Pending(record, future);
    boolean startsHere = startsWhereCallsEnd();
    future.onComplete(ar -> {
      done.add(p);
      wake();
      if (startsHere) {
        ended();
      }
    });
  }

  @Override
  int emitNext(Emitter out) throws InterruptedException {
    Pending p = done.poll();
    if (p == null) {
      return 0;
    }
    if (p == END) {
      return -1;
    }
    out.emit(p.record, p.future);
    return 1;
  }

  @Override
  boolean ready() {
    return !done.isEmpty();
  }

  @Override
  void finish() throws InterruptedException {
    // Every started call must have been emitted before the end goes out.
    awaitEmitted();
    done.add(END);
    wake();
  }
}
