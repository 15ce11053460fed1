package io.sagebus.impl.service;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The admission part of a service instance: at most {@code maxConcurrency} calls hold a slot and
 * at most {@code maxQueued} wait for one; beyond that a call is refused (OVERLOADED), and once the
 * instance stops every call is (STOPPING). Thread-safe: the consumer admits on its event loop,
 * runners hand slots on from their own threads.
 */
final class Admission {

  /** What became of a call offered to {@link #admit(Invocation)}. */
  enum Outcome {
    /** It holds a slot: run it now. */
    RUN,
    /** It waits for a slot; a runner that frees one takes it. */
    QUEUED,
    /** Refused: every slot and queue place is taken. */
    FULL,
    /** Refused: the instance is stopping. */
    STOPPING
  }

  private final int maxConcurrency;
  private final int maxQueued;
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<Invocation> queue = new ArrayDeque<>();
  /** Invocations holding a slot: an intrusive list (no hashing per call), read when a drain times out. */
  private final Invocation executing = Invocation.sentinel();
  private int active;
  /** Items of batched methods admitted and not yet answered: they take a place each, but no slot. */
  private int items;
  private boolean stopping;
  private Promise<Void> idle;

  Admission(int maxConcurrency, int maxQueued) {
    this.maxConcurrency = maxConcurrency;
    this.maxQueued = maxQueued;
  }

  int maxConcurrency() {
    return maxConcurrency;
  }

  int maxQueued() {
    return maxQueued;
  }

  /** {@return what becomes of the call} */
  Outcome admit(Invocation inv) {
    lock.lock();
    try {
      Outcome refused = refusal();
      if (refused != null) {
        return refused;
      }
      if (active < maxConcurrency) {
        active++;
        executing.link(inv);
        return Outcome.RUN;
      }
      queue.add(inv);
      return Outcome.QUEUED;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Admits one item of a batched method: it counts against {@code maxConcurrency + maxQueued} as
   * any call does, but takes no slot (its batch runs under the method's own limit).
   *
   * @param inv the item's call
   * @return {@link Outcome#RUN} when held (hand it to its batcher), else FULL or STOPPING
   */
  Outcome hold(Invocation inv) {
    lock.lock();
    try {
      Outcome refused = refusal();
      if (refused != null) {
        return refused;
      }
      items++;
      executing.link(inv);
      return Outcome.RUN;
    } finally {
      lock.unlock();
    }
  }

  /**
   * An item taken by {@link #hold(Invocation)} was answered: its place is freed.
   *
   * @param inv the item's call
   */
  void released(Invocation inv) {
    lock.lock();
    try {
      inv.unlink();
      items--;
      idleIfDone();
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock: {@return STOPPING or FULL when a call is refused now, else {@code null}} */
  private Outcome refusal() {
    if (stopping) {
      return Outcome.STOPPING;
    }
    return active + queue.size() + items >= maxConcurrency + maxQueued ? Outcome.FULL : null;
  }

  private void idleIfDone() {
    if (stopping && active == 0 && items == 0 && idle != null) {
      idle.tryComplete();
    }
  }

  /**
   * A call holding a slot is done: its slot goes to the next queued call, or is freed.
   *
   * @param done the call that finished
   * @return the call that now holds the slot, or {@code null}
   */
  Invocation next(Invocation done) {
    lock.lock();
    try {
      done.unlink();
      Invocation next = queue.poll();
      if (next == null) {
        active--;
        idleIfDone();
      } else {
        executing.link(next);
      }
      return next;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops admitting.
   *
   * @return the calls that were queued (none of them ran); the caller answers them
   */
  List<Invocation> stop() {
    lock.lock();
    try {
      stopping = true;
      List<Invocation> dropped = new ArrayList<>(queue);
      queue.clear();
      idle = Promise.promise();
      idleIfDone();
      return dropped;
    } finally {
      lock.unlock();
    }
  }

  /** {@return completed once no call holds a slot, after {@link #stop()}} */
  Future<Void> idle() {
    lock.lock();
    try {
      return idle.future();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Finds the calls with this request id, for a cancel (attempts of one call share its id): queued ones
   * leave the queue (they never run).
   *
   * @param requestId the request id
   * @return the calls queued (now out of the queue) and the calls holding a slot, each possibly empty
   */
  Found find(String requestId) {
    List<Invocation> queued = List.of();
    List<Invocation> running = List.of();
    lock.lock();
    try {
      for (var it = queue.iterator(); it.hasNext(); ) {
        Invocation inv = it.next();
        if (requestId.equals(inv.requestId)) {
          it.remove();
          queued = queued.isEmpty() ? new ArrayList<>(1) : queued;
          queued.add(inv);
        }
      }
      for (Invocation inv : executing.linked()) {
        if (requestId.equals(inv.requestId)) {
          running = running.isEmpty() ? new ArrayList<>(1) : running;
          running.add(inv);
        }
      }
      return new Found(queued, running);
    } finally {
      lock.unlock();
    }
  }

  /**
   * The calls found by a request id.
   *
   * @param queued  those that were queued, now out of the queue
   * @param running those holding a slot
   */
  record Found(List<Invocation> queued, List<Invocation> running) {
  }

  /** {@return the calls holding a slot now} */
  List<Invocation> executing() {
    lock.lock();
    try {
      return executing.linked();
    } finally {
      lock.unlock();
    }
  }

  /** {@return calls holding a slot now} */
  int active() {
    lock.lock();
    try {
      return active;
    } finally {
      lock.unlock();
    }
  }

  /** {@return items of batched methods held now (waiting for their batch or in it)} */
  int items() {
    lock.lock();
    try {
      return items;
    } finally {
      lock.unlock();
    }
  }

  /** {@return calls waiting for a slot now} */
  int queued() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }
}
