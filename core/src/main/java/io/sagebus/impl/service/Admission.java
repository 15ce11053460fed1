package io.sagebus.impl.service;

import io.sagebus.impl.ThreadStripes;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The admission part of a service instance: at most {@code maxConcurrency} calls hold a slot and
 * at most {@code maxQueued} wait for one; beyond that a call is refused (OVERLOADED), and once the
 * instance stops every call is (STOPPING). Thread-safe: callers admit on their own threads (the consumer's
 * event loop, or a caller in this JVM on the direct path), runners hand slots on from theirs.
 * <p>
 * While a slot is free and nobody waits, a call takes one with a compare-and-set of the slot count, and
 * gives it back with one, without the lock: with a job's operator instances calling on several threads at
 * once, every call taking and giving back the instance's lock (twice a call, with its runner's thread) was
 * a visible part of the call. The lock guards the queue, the batched items and stopping. Whoever writes one
 * of the counts another side reads writes first and reads after (a caller queueing: the waiting count, then
 * the slots; a slot given back: the slots, then the waiting count), so that of two racing sides at least
 * one sees the other: no call waits while a slot is free, no slot is taken past the limit or after the
 * instance stopped, and the instance is idle only once no call holds a slot.
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

  private static final VarHandle ACTIVE;
  /** Lists of the calls holding a slot, by the thread that admitted them: 2^this of them. */
  private static final int STRIPE_BITS = 2;

  static {
    try {
      ACTIVE = MethodHandles.lookup().findVarHandle(Admission.class, "active", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final int maxConcurrency;
  private final int maxQueued;
  private final Consumer<Invocation> handOn;
  private final ReentrantLock lock = new ReentrantLock();
  /** Under the lock. */
  private final ArrayDeque<Invocation> queue = new ArrayDeque<>();
  /**
   * Invocations holding a slot: intrusive lists (no hashing per call), each guarded by its own monitor, read
   * when a cancel looks for a request id and when a drain times out.
   */
  private final Invocation[] executing = new Invocation[1 << STRIPE_BITS];
  /** Calls holding a slot: changed by compare-and-set only. */
  @SuppressWarnings("unused")
  private volatile int active;
  /** The queue's size: written under the lock, read without it. */
  private volatile int waiting;
  /** Items of batched methods admitted and not yet answered: they take a place each, but no slot. Written under the lock. */
  private volatile int items;
  /** Written under the lock. */
  private volatile boolean stopping;
  /** Under the lock. */
  private Promise<Void> idle;

  /**
   * @param maxConcurrency the slots
   * @param maxQueued      the queue places
   * @param handOn         runs a queued call that a slot was handed to outside {@link #next(Invocation)} (when a call
   *                       that took a slot without the lock gives it back because the instance began to stop or a
   *                       batched item came meanwhile): it holds the slot, as a call {@code next} returns does
   */
  Admission(int maxConcurrency, int maxQueued, Consumer<Invocation> handOn) {
    this.maxConcurrency = maxConcurrency;
    this.maxQueued = maxQueued;
    this.handOn = handOn;
    for (int i = 0; i < executing.length; i++) {
      executing[i] = Invocation.sentinel();
    }
  }

  int maxConcurrency() {
    return maxConcurrency;
  }

  int maxQueued() {
    return maxQueued;
  }

  /** {@return what becomes of the call} */
  Outcome admit(Invocation inv) {
    if (waiting == 0 && items == 0 && !stopping && takeSlot()) {
      // Read after the slot was taken: a stop, a batched item or a queued call that came meanwhile saw it, or is seen.
      if (!stopping && items == 0) {
        link(inv);
        return Outcome.RUN;
      }
      // A stop or a batched item came meanwhile: give the slot back (to a call that queued meanwhile, if one did)
      // and decide under the lock, as any call then is.
      Invocation handedOn = giveBack();
      if (handedOn != null) {
        handOn.accept(handedOn);
      }
    }
    lock.lock();
    try {
      if (stopping) {
        return Outcome.STOPPING;
      }
      int w = waiting;
      if (places(active, w, items)) {
        return Outcome.FULL;
      }
      waiting = w + 1; // first: a slot given back from now on looks at the queue
      if (w == 0 && takeSlot()) {
        waiting = w;
        link(inv);
        return Outcome.RUN;
      }
      if ((long) w + 1 + items > maxQueued) {
        // Every slot taken after all (one was taken without the lock since the check above), and no queue place.
        waiting = w;
        return Outcome.FULL;
      }
      queue.add(inv);
      return Outcome.QUEUED;
    } finally {
      lock.unlock();
    }
  }

  /**
   * {@return whether calls holding a slot, waiting and batched items fill every place (slots and queue), in long
   * arithmetic: limits near {@code Integer.MAX_VALUE} mean "no limit" to a user, not an overflow}
   */
  private boolean places(int holding, int queued, int held) {
    return (long) holding + queued + held >= (long) maxConcurrency + maxQueued;
  }

  /** {@return whether this took a free slot} */
  private boolean takeSlot() {
    int a;
    while ((a = active) < maxConcurrency) {
      if (ACTIVE.compareAndSet(this, a, a + 1)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Gives a slot back: to the first queued call, which now holds it, when one waits.
   *
   * @return that call, or {@code null}
   */
  private Invocation giveBack() {
    ACTIVE.getAndAdd(this, -1);
    if (waiting == 0 && !stopping) {
      return null; // read after the slot was given back: a call queueing meanwhile finds it free
    }
    lock.lock();
    try {
      Invocation next = null;
      if (!queue.isEmpty() && takeSlot()) {
        next = queue.poll();
        waiting = queue.size();
        link(next);
      }
      idleIfDone();
      return next;
    } finally {
      lock.unlock();
    }
  }

  /** Adds a call that took a slot to the list of its admitting thread. */
  private void link(Invocation inv) {
    int stripe = ThreadStripes.current(STRIPE_BITS);
    Invocation list = executing[stripe];
    synchronized (list) {
      inv.stripe = stripe;
      list.link(inv);
    }
  }

  /** Removes a call from the list of calls holding a slot, if it is in it. */
  private void unlink(Invocation inv) {
    Invocation list = executing[inv.stripe];
    synchronized (list) {
      inv.unlink();
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
      if (stopping) {
        return Outcome.STOPPING;
      }
      int i = items;
      items = i + 1; // first: a call taking a slot without the lock from now on takes the lock instead
      if (places(active, waiting, i)) {
        items = i;
        return Outcome.FULL;
      }
      link(inv);
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
    unlink(inv);
    lock.lock();
    try {
      items--;
      idleIfDone();
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock: completes {@link #idle()} once stopped and no call holds a slot or a place. */
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
    unlink(done);
    return giveBack();
  }

  /**
   * Stops admitting.
   *
   * @return the calls that were queued (none of them ran); the caller answers them
   */
  List<Invocation> stop() {
    lock.lock();
    try {
      stopping = true; // first: a slot taken without the lock from now on is given back
      List<Invocation> dropped = new ArrayList<>(queue);
      queue.clear();
      waiting = 0;
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
    } finally {
      lock.unlock();
    }
    for (Invocation inv : executing()) {
      if (requestId.equals(inv.requestId)) {
        running = running.isEmpty() ? new ArrayList<>(1) : running;
        running.add(inv);
      }
    }
    return new Found(queued, running);
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
    List<Invocation> all = new ArrayList<>();
    for (Invocation list : executing) {
      synchronized (list) {
        all.addAll(list.linked());
      }
    }
    return all;
  }

  /** {@return calls holding a slot now} */
  int active() {
    return active;
  }

  /** {@return items of batched methods held now (waiting for their batch or in it)} */
  int items() {
    return items;
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
