package io.sagebus.impl.job;

import io.netty.channel.SingleThreadEventLoop;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;

import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The calls a {@code mapAsync} operator instance has started, from the thread that starts them to
 * the thread that emits their results: {@link OrderedResults} emits in input order,
 * {@link UnorderedResults} as they complete (Flink's two stream-element queues). The operator's
 * capacity is a {@link Semaphore} of slots: a call takes one when it starts and gives it back once
 * its result was emitted.
 * <p>
 * Emitting is a role, held by one thread at a time ({@link #role}), so results go out in order:
 * the operator's emitter thread holds it while it emits what is ready, and parks without it when
 * nothing is. A thread that needs a slot to start a call while every slot is taken takes the role
 * itself ({@link #acquire}) and emits what is ready, or waits for the next completion, as Flink's
 * async operator yields to its mailbox: then a completion wakes that thread alone, instead of the
 * emitter thread, which would wake the starter in turn. A completion wakes whoever waits in the role
 * only then: results that complete together are emitted in one go.
 * <p>
 * A completion on an event loop (a service's {@code Future} method answering there) wakes that thread once the
 * loop's current run of tasks is over, not at once: the calls whose timers or replies the loop handles in one run
 * wake it once, instead of one wake-up each as the thread keeps catching up with the loop (on the project's 2-core VM
 * a wake-up costs the waking loop about 25 µs, time the loop's other completions and the calls it runs wait behind;
 * measured: 0.926 to 0.946 of a 5 ms service's bound, BENCHMARKS.md).
 * <p>
 * For a {@code mapAsync} declared non-blocking ({@link #startsWhereCallsEnd()}) calls start wherever earlier ones end
 * ({@link #tryStart}, the operator's {@code startCalls}), and no starting thread takes the role: a call gives its slot
 * back as it completes, and a second semaphore of twice the capacity in places bounds the calls started and not
 * emitted yet (a place goes back once the result was emitted).
 */
abstract sealed class AsyncResults permits OrderedResults, UnorderedResults {

  /** Marks the end, in place of a record: every call was emitted. */
  static final Object LAST = new Object();

  /** Emits one completed call's result (the operator's policy applied to a failure). */
  interface Emitter {
    /**
     * Emits a result.
     *
     * @param record the record handed to {@code mapAsync}
     * @param future its call's Future, completed
     * @throws InterruptedException when the job stops
     */
    void emit(Object record, Future<?> future) throws InterruptedException;
  }

  final Semaphore slots;
  /**
   * With calls started where earlier ones end ({@link io.sagebus.DataStream#nonBlocking()}): places for calls started
   * and not emitted yet, twice the capacity, given back as results are emitted (the slots then go back as calls
   * complete); else {@code null}.
   */
  private final Semaphore places;
  /** How many places {@link #places} has, or 0. */
  private final int placeCount;
  /** With {@link #places}: hears each call's end, once its slot was given back (it starts the next calls). */
  private volatile Runnable callEnded;
  /** With {@link #places}: hears emitted results' places given back. */
  private volatile Runnable placesFreed;
  /** With {@link #places}: gives a call's slot back as it completes, then tells {@link #callEnded}. */
  final io.vertx.core.Handler<io.vertx.core.AsyncResult<Object>> ended = ar -> ended();
  /** The right to take results and emit them, so that they go out in order. */
  final ReentrantLock role = new ReentrantLock();
  private final int capacity;
  /** The thread to wake when a result may be ready: the one that waits in the role, else the emitter thread. */
  private volatile Thread waiter;
  /** The operator's emitter thread, once started. */
  private volatile Thread emitterThread;
  /** A wake-up queued on an event loop to run after its current run of tasks ({@link #wake()}). */
  private final LoopTask queuedWake = new LoopTask(this::wakeNow, true);

  AsyncResults(int capacity, boolean startsWhereCallsEnd) {
    this.capacity = capacity;
    this.slots = new Semaphore(capacity);
    this.placeCount = startsWhereCallsEnd ? 2 * capacity : 0;
    this.places = startsWhereCallsEnd ? new Semaphore(placeCount) : null;
  }

  /**
   * {@return a queue for the operator's order}
   *
   * @param order               the operator's order
   * @param capacity            its capacity
   * @param startsWhereCallsEnd whether calls start where earlier ones end ({@link #tryStart}, {@link #listen}), each
   *                            call's slot given back as it completes, rather than by one thread that takes a slot
   *                            with {@link #acquire} and gives it back once the result was emitted
   */
  static AsyncResults of(io.sagebus.AsyncOrder order, int capacity, boolean startsWhereCallsEnd) {
    return order == io.sagebus.AsyncOrder.ORDERED ? new OrderedResults(capacity, startsWhereCallsEnd)
      : new UnorderedResults(capacity, startsWhereCallsEnd);
  }

  /** {@return whether calls start where earlier ones end: see {@link #of}} */
  final boolean startsWhereCallsEnd() {
    return places != null;
  }

  /**
   * With calls started where earlier ones end: who hears a call's end (after its slot went back) and emitted results'
   * places given back.
   *
   * @param callEnded   runs on the thread that completed a call
   * @param placesFreed runs on the thread that emitted results
   */
  final void listen(Runnable callEnded, Runnable placesFreed) {
    this.callEnded = callEnded;
    this.placesFreed = placesFreed;
  }

  /**
   * With calls started where earlier ones end: takes a slot and a place for a call, if both are free now; the call
   * must then be {@link #started}.
   *
   * @return whether it took them
   */
  final boolean tryStart() {
    if (!places.tryAcquire()) {
      return false;
    }
    if (slots.tryAcquire()) {
      return true;
    }
    places.release();
    return false;
  }

  /** With calls started where earlier ones end: a call completed; its slot goes back, and the next calls may start. */
  final void ended() {
    slots.release();
    callEnded.run();
  }

  /**
   * Waits until every started call's result was emitted.
   *
   * @throws InterruptedException when the job stops
   */
  final void awaitEmitted() throws InterruptedException {
    if (places != null) {
      places.acquire(placeCount);
    } else {
      slots.acquire(capacity);
    }
  }

  /**
   * Takes a free slot before a call starts. When there is none, this thread takes the emitting role
   * and emits ready results (freeing their slots), or waits in the role for the next completion;
   * when the emitter thread holds the role, it waits for that thread to free a slot.
   *
   * @param out emits a result
   * @throws InterruptedException when the job stops
   */
  final void acquire(Emitter out) throws InterruptedException {
    if (slots.tryAcquire()) {
      return;
    }
    if (!role.tryLock()) {
      slots.acquire();
      return;
    }
    try {
      Thread me = Thread.currentThread();
      while (true) {
        // The end marker is added only after the last call started, so it cannot be met here.
        int emitted = drain(out, Integer.MAX_VALUE);
        if (emitted > 0) {
          slots.release(emitted);
        }
        // Only this thread takes slots: once it freed some, one is there.
        if (slots.tryAcquire()) {
          return;
        }
        waiter = me;
        while (!ready()) {
          beforePark();
          LockSupport.park(this);
          if (Thread.interrupted()) {
            throw new InterruptedException("the mapAsync operator is stopping");
          }
        }
      }
    } finally {
      handBack();
    }
  }

  /**
   * Under the role: emits what is ready, at most {@code max} results (the end marker stops it).
   *
   * @return how many results it emitted, their slots not released yet; -1 - that many once it met {@link #LAST}
   */
  final int drain(Emitter out, int max) throws InterruptedException {
    int n = 0;
    while (n < max) {
      int e = emitNext(out);
      if (e == 0) {
        return n;
      }
      if (e < 0) {
        return -1 - n;
      }
      n++;
    }
    return n;
  }

  /**
   * The emitter thread, in the role, found nothing ready: from now on a completion wakes it.
   * It then gives the role up and parks in {@link #awaitReady()}.
   */
  final void waitInRole() {
    waiter = Thread.currentThread();
    beforePark();
  }

  /** The emitter thread, out of the role: parks until a result may be ready. */
  final void awaitReady() throws InterruptedException {
    if (!ready()) {
      LockSupport.park(this);
    }
    if (Thread.interrupted()) {
      throw new InterruptedException("the mapAsync operator is stopping");
    }
  }

  /**
   * A starting thread leaves the role: completions wake the emitter thread again (for an ordered queue, the oldest
   * call's, which may not be the one the emitter thread asked for before it parked), and at once if one is ready.
   */
  private void handBack() {
    Thread t = emitterThread;
    waiter = t;
    if (t != null) {
      beforePark();
    }
    role.unlock();
    // Announced before looking: a completion after this look finds the emitter thread as the waiter.
    if (t != null && ready()) {
      LockSupport.unpark(t);
    }
  }

  /**
   * The operator's emitter thread, before it starts.
   *
   * @param t the thread
   */
  final void emitterThread(Thread t) {
    emitterThread = t;
    waiter = t;
  }

  /**
   * Results were emitted: their slots are free again.
   *
   * @param n how many
   */
  final void release(int n) {
    if (places != null) {
      places.release(n);
      placesFreed.run();
    } else {
      slots.release(n);
    }
  }

  /**
   * A call started (it holds a slot); called by the one thread that starts the operator's calls.
   *
   * @param record the record handed to {@code mapAsync}
   * @param future its call's Future
   */
  abstract void started(Object record, Future<?> future);

  /**
   * Under the role: emits the next call's result if it is ready now (its Future completed), and takes it out.
   *
   * @return 1 when it emitted one, 0 when none is ready, -1 when it met (and took) {@link #LAST}
   */
  abstract int emitNext(Emitter out) throws InterruptedException;

  /** {@return whether {@link #emitNext} would emit something, or meet the end, now} */
  abstract boolean ready();

  /** No call will start any more: the end goes out after every started one. */
  abstract void finish() throws InterruptedException;

  /** Under the role, nothing ready: arrange to be woken when something may be. */
  void beforePark() {
  }

  /**
   * Wakes the thread waiting for a result: at once, or on an event loop's thread once that loop's current run of
   * tasks is over (one wake-up for every completion of that run; see the class comment).
   */
  final void wake() {
    ContextInternal context = ContextInternal.current();
    if (context != null && context.isEventLoopContext() && context.inThread()
      && context.nettyEventLoop() instanceof SingleThreadEventLoop loop) {
      // A wake-up already queued (here or by another loop) runs after this completion and finds it.
      queuedWake.request(loop);
      return;
    }
    wakeNow();
  }

  /** Wakes the thread waiting for a result, if any, now. */
  private void wakeNow() {
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
