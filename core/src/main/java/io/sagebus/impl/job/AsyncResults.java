package io.sagebus.impl.job;

import io.vertx.core.Future;

import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;

/**
 * The calls a {@code mapAsync} operator instance has started, from the thread that starts them to
 * the thread that emits their results: {@link OrderedResults} emits in input order,
 * {@link UnorderedResults} as they complete (Flink's two stream-element queues). The operator's
 * capacity is a {@link Semaphore} of slots: a call takes one when it starts and gives it back once
 * its result was emitted.
 * <p>
 * The emitter takes what is ready without waiting ({@link #poll()}) and parks only when nothing is
 * ({@link #next()}); a call's completion wakes it only then, so results that complete together are
 * emitted in one go, not with a thread wake-up each.
 */
abstract sealed class AsyncResults permits OrderedResults, UnorderedResults {

  /** A record handed to {@code mapAsync}, and the Future of its call. */
  static final class Pending {
    /** Marks the end: every call was emitted. */
    static final Pending LAST = new Pending(null, Future.succeededFuture());
    final Object record;
    final Future<?> future;

    Pending(Object record, Future<?> future) {
      this.record = record;
      this.future = future;
    }
  }

  final Semaphore slots;
  private final int capacity;
  /** The emitter while it parks in {@link #next()}, else {@code null}. */
  private volatile Thread waiter;

  AsyncResults(int capacity) {
    this.capacity = capacity;
    this.slots = new Semaphore(capacity);
  }

  /** {@return a queue for the operator's order} */
  static AsyncResults of(io.sagebus.AsyncOrder order, int capacity) {
    return order == io.sagebus.AsyncOrder.ORDERED ? new OrderedResults(capacity) : new UnorderedResults(capacity);
  }

  /** Waits for a free slot before a call starts. */
  final void acquire() throws InterruptedException {
    slots.acquire();
  }

  /**
   * Results were emitted: their slots are free again.
   *
   * @param n how many
   */
  final void release(int n) {
    slots.release(n);
  }

  /** A call started (it holds a slot). */
  abstract void started(Pending p);

  /** {@return the next call to emit if it is ready now (its Future completed, or {@link Pending#LAST}), else {@code null}} */
  abstract Pending poll();

  /** No call will start any more: the end goes out after every started one. */
  abstract void finish() throws InterruptedException;

  /** {@return the next call to emit, its Future completed, or {@link Pending#LAST}, waiting for it} */
  final Pending next() throws InterruptedException {
    Pending p = poll();
    if (p != null) {
      return p;
    }
    waiter = Thread.currentThread();
    try {
      while (true) {
        // Announced as waiting before looking again: a completion after this look finds the waiter and wakes it.
        p = poll();
        if (p != null) {
          return p;
        }
        beforePark();
        LockSupport.park(this);
        if (Thread.interrupted()) {
          throw new InterruptedException("the mapAsync operator is stopping");
        }
      }
    } finally {
      waiter = null;
    }
  }

  /** The emitter found nothing ready and is about to park: arrange to be woken when something is. */
  void beforePark() {
  }

  /** Wakes the emitter if it parks (or is about to) in {@link #next()}. */
  final void wake() {
    Thread w = waiter;
    if (w != null) {
      LockSupport.unpark(w);
    }
  }

  /** {@return the operator's capacity} */
  final int capacity() {
    return capacity;
  }
}
