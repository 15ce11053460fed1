package io.sagebus.impl.job;

import io.vertx.core.Future;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * The calls a {@code mapAsync} operator instance has started, from the thread that starts them to
 * the thread that emits their results: {@link OrderedResults} emits in input order,
 * {@link UnorderedResults} as they complete (Flink's two stream-element queues). The operator's
 * capacity is a {@link Semaphore} of slots: a call takes one when it starts and gives it back once
 * its result was emitted.
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

  /** Handed from the starting thread to the emitting one. */
  final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  final Semaphore slots;
  private final int capacity;

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

  /** A result was emitted: its slot is free again. */
  final void release() {
    slots.release();
  }

  /** A call started (it holds a slot). */
  abstract void started(Pending p) throws InterruptedException;

  /** {@return the next call to emit, its Future completed, or {@link Pending#LAST}} */
  abstract Pending next() throws InterruptedException;

  /** No call will start any more: the end goes out after every started one. */
  abstract void finish() throws InterruptedException;

  /** {@return the operator's capacity} */
  final int capacity() {
    return capacity;
  }
}
