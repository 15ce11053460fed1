package io.sagebus.impl.service;

import io.sagebus.BatchPolicy;
import io.sagebus.FailureCode;
import io.sagebus.impl.call.CallScope;
import io.sagebus.impl.call.Cancellation;
import io.sagebus.impl.registry.ServiceMethods;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The batching part of a service instance, one per batched method: gathers the admitted items of
 * concurrent calls and runs the method once per batch, then answers each call with its element.
 * A batch closes when it is full, when its first item has waited the policy's max wait, earlier
 * when less than one more item is expected within the rest of that wait (see {@link #closeAt()};
 * not when the policy's wait is not adaptive),
 * or when waiting longer would spend its tightest member's budget (deadline less the observed
 * invocation time, an EWMA, and a margin for the answer's way back). Thread-safe: items arrive on the
 * instance's event loop, its timer fires there, and a plain-List method's virtual thread takes
 * the next batch itself when it is ready (no hop between batches). Every item it takes is
 * answered and released, whatever the method does.
 */
final class Batcher {

  /** Weight of the newest invocation time in the EWMA, and of the newest busy spell in the arrival rate's. */
  private static final double EWMA_WEIGHT = 0.2;
  /** Least and most time kept for an answer's way back to its caller: a tenth of its budget in between. */
  private static final long MIN_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long MAX_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final ServiceInstance owner;
  private final String method;
  private final ServiceMethods.Batch batch;
  private final boolean blocking;
  private final int maxSize;
  private final long maxWaitNanos;
  private final int maxBatches;
  /** Whether a batch goes before its max wait when no more items are expected (the policy's adaptive wait). */
  private final boolean adaptiveWait;
  private final Admission admission;
  private final Recorder recorder;
  private final ContextInternal loop;
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<Invocation> pending = new ArrayDeque<>();
  /** Items waiting, readable without the lock (stats). */
  private volatile int waiting;
  /** Items in running batches, readable without the lock (stats). */
  private volatile int runningItems;
  private int running;
  private boolean stopped;
  /** Observed invocation time, nanoseconds; 0 before the first batch ended. */
  private long ewmaNanos;
  private ScheduledFuture<?> timer;
  private long timerAt;
  private long timerGeneration;
  /** The close time of the timer that has just fired, for the take that follows it; else 0. */
  private long firedAt;
  /**
   * How much earlier than its close time a batch that waited is taken, nanoseconds: learnt from when such batches
   * began (the timer's lateness, the hop to the loop or a virtual thread), so that the method begins at the close
   * time and no item waits longer than the policy's max wait because a scheduler was late (about 0.3-0.5 ms on an
   * idle 2-core machine, more under load). At most half the max wait.
   */
  private long leadNanos;
  /*
   * The arrival rate that waiting can gather: items that arrive while the batcher is busy (an item waits for its
   * batch or a batch's method runs), per nanosecond of busy time. Busy time is cut into spells at each batch's close
   * and at the return of the last method running; each spell's arrivals and length go into an EWMA, and the rate is
   * their ratio. An item that arrives at an idle batcher starts a spell and is not counted: a caller that waits for
   * its answer before it sends its next item never sends one while its own waits or runs, so a lone sequential
   * caller shows a rate of 0 and its batches go at once. Busy time only, so that closing early does not hide the
   * load (items still arrive while the method runs) and the callers' own idle gaps do not count.
   */
  /** Busy-spell arrivals, EWMA. */
  private double busyArrivals;
  /** Busy-spell length in nanoseconds, EWMA. */
  private double busyNanos;
  /** Whether a spell was learnt: until then a batch waits its full max wait. */
  private boolean rateLearnt;
  /** Whether the batcher is busy now: an item waits or a batch's method runs. */
  private boolean busy;
  /** Batches whose method has not returned yet (answering them is not counted as busy). */
  private int invoking;
  /** When the current spell began, if busy. */
  private long spellStart;
  /** Items that arrived in the current spell, the one that opened it not counted. */
  private int spellArrivals;

  Batcher(ServiceInstance owner, String method, ServiceMethods.Batch batch, Admission admission, Recorder recorder,
          ContextInternal loop) {
    this.owner = owner;
    this.method = method;
    this.batch = batch;
    this.blocking = batch.target().kind() == ServiceMethods.Kind.BLOCKING;
    BatchPolicy policy = batch.policy();
    this.maxSize = policy.getMaxSize();
    this.maxWaitNanos = policy.getMaxWait().toNanos();
    this.maxBatches = policy.getMaxConcurrentBatches();
    this.adaptiveWait = policy.isAdaptiveWait();
    this.admission = admission;
    this.recorder = recorder;
    this.loop = loop;
  }

  /** {@return items waiting for a batch now} */
  int waiting() {
    return waiting;
  }

  /** {@return items in running batches now} */
  int runningItems() {
    return runningItems;
  }

  /**
   * Takes an item held by {@link Admission#hold(Invocation)}. An item whose budget is spent is
   * answered DEADLINE_EXCEEDED and never enters a batch.
   */
  void add(Invocation inv) {
    if (owner.expired(inv)) {
      admission.released(inv);
      return;
    }
    boolean refused;
    lock.lock();
    try {
      refused = stopped;
      if (!refused) {
        if (busy) {
          spellArrivals++;
        } else {
          busy = true;
          spellStart = System.nanoTime();
          spellArrivals = 0;
        }
        pending.add(inv);
        waiting = pending.size();
      }
    } finally {
      lock.unlock();
    }
    if (refused) {
      owner.stopping(inv, "it arrived while the service was being undeployed; it did not run");
      admission.released(inv);
      return;
    }
    startReady();
  }

  /**
   * Takes an item that was answered (cancelled) while it waited for its batch out of the waiting ones and frees
   * its place at once; an item already in a running batch stays there (its batch answers the others).
   */
  void dropWaiting(Invocation inv) {
    boolean removed;
    lock.lock();
    try {
      removed = pending.remove(inv);
      waiting = pending.size();
      forgetIfIdle();
    } finally {
      lock.unlock();
    }
    if (removed) {
      admission.released(inv);
    }
  }

  /** Starts every batch that may start now; sets the timer for the next close otherwise. */
  private void startReady() {
    List<Invocation> members;
    while ((members = take()) != null) {
      if (blocking) {
        List<Invocation> first = members;
        owner.onVirtualThread(() -> runBlocking(first));
      } else if (loop.inThread()) {
        runOnLoop(members);
      } else {
        List<Invocation> onLoop = members;
        loop.runOnContext(v -> runOnLoop(onLoop));
      }
    }
  }

  /**
   * {@return the members of a batch that may start now, counted as running, or {@code null}}; the
   * waiting items whose budget is spent are answered and dropped on the way.
   */
  private List<Invocation> take() {
    List<Invocation> late = null;
    List<Invocation> members = null;
    long due = 0;
    lock.lock();
    try {
      while (members == null && !stopped && running < maxBatches && !pending.isEmpty()) {
        if (pending.size() < maxSize) {
          due = closeAt();
          if (System.nanoTime() - (due - leadNanos) < 0) {
            arm(due);
            break;
          }
        } else {
          due = 0;
        }
        List<Invocation> taken = new ArrayList<>(Math.min(maxSize, pending.size()));
        while (taken.size() < maxSize && !pending.isEmpty()) {
          Invocation inv = pending.poll();
          if (!inv.open() || inv.expired()) {
            if (late == null) {
              late = new ArrayList<>();
            }
            late.add(inv); // it never enters a batch
          } else {
            taken.add(inv);
          }
        }
        if (!taken.isEmpty()) {
          // Only a batch that waited for its timer teaches the lead, by the time the timer was set for: one that
          // goes at once (full, or nothing worth waiting for) or after a running batch ended may be far past its
          // close time for no scheduler's fault.
          taken.get(0).batchDue = due != 0 ? firedAt : 0;
          firedAt = 0;
          members = taken;
          running++;
          runningItems += taken.size();
          invoking++;
          learnSpell(System.nanoTime());
        }
      }
      waiting = pending.size();
      forgetIfIdle();
      firedAt = 0; // meant for the take that follows the timer only
    } finally {
      lock.unlock();
    }
    if (late != null) {
      for (Invocation inv : late) {
        owner.expired(inv); // answers DEADLINE_EXCEEDED unless answered already
        admission.released(inv);
      }
    }
    if (members != null) {
      begin(members);
    }
    return members;
  }

  /**
   * {@return when the waiting items must go: their first's max wait, less (with an adaptive wait) the mean gap
   * between items that arrive while the batcher is busy (from then on less than one more item is expected before
   * the max wait: with no such item seen, at once), or the tightest member's deadline less the observed invocation
   * time and a margin for the answer's way back}
   */
  private long closeAt() {
    long first = pending.peek().received;
    long at = first + maxWaitNanos;
    if (rateLearnt && adaptiveWait) {
      // Items expected in the rest of the wait = rate * (at - now): below one from at - 1 / rate on. The spell in
      // progress counts as if it ended now, so that items arriving now (a load starting) are seen at once.
      double nanos = System.nanoTime() - spellStart;
      double arrivals = busyArrivals + EWMA_WEIGHT * (spellArrivals - busyArrivals);
      double gap = arrivals > 0 ? (busyNanos + EWMA_WEIGHT * (nanos - busyNanos)) / arrivals : Double.POSITIVE_INFINITY;
      at = gap >= maxWaitNanos ? first : at - (long) gap;
    }
    for (Invocation inv : pending) {
      if (inv.deadline != 0) {
        long margin = Math.clamp((inv.deadline - inv.received) / 10, MIN_MARGIN_NANOS, MAX_MARGIN_NANOS);
        long latest = inv.deadline - ewmaNanos - margin;
        if (latest - at < 0) {
          at = latest;
        }
      }
    }
    return at;
  }

  /** Under the lock: a batch closed, or the last method running returned: the spell so far goes into the rate. */
  private void learnSpell(long now) {
    double nanos = now - spellStart;
    if (rateLearnt) {
      busyArrivals += EWMA_WEIGHT * (spellArrivals - busyArrivals);
      busyNanos += EWMA_WEIGHT * (nanos - busyNanos);
    } else {
      busyArrivals = spellArrivals;
      busyNanos = nanos;
      rateLearnt = true;
    }
    spellStart = now;
    spellArrivals = 0;
  }

  /**
   * Under the lock: when nothing waits or runs any more, the spell ends. One that ran no batch (its items were
   * cancelled, late or refused) is forgotten: the rate is learnt from spells of batches.
   */
  private void forgetIfIdle() {
    if (busy && pending.isEmpty() && invoking == 0) {
      busy = false;
    }
  }

  /**
   * A batch's method has returned (or its future completed), before its members are answered: when nothing else
   * waits or runs, the spell ends here and goes into the arrival rate, so that a caller's next item, sent once it has
   * its answer, opens a spell of its own rather than counting as an item that waiting could have gathered.
   */
  private void returned() {
    lock.lock();
    try {
      invoking--;
      if (busy && pending.isEmpty() && invoking == 0) {
        learnSpell(System.nanoTime()); // the method's time counts: items could have arrived in it
        busy = false;
      }
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock: makes sure a timer fires by {@code at}. */
  private void arm(long at) {
    if (timer != null) {
      if (timerAt - at <= 0) {
        return; // an earlier one is set: it looks again
      }
      timer.cancel(false);
    }
    timerAt = at;
    firedAt = 0;
    long generation = ++timerGeneration;
    long delay = Math.max(0, at - leadNanos - System.nanoTime());
    // The netty loop's own scheduler: to the microsecond, where a Vert.x timer rounds to milliseconds.
    timer = loop.nettyEventLoop().schedule(() -> loop.emit(v -> fired(generation)), delay, TimeUnit.NANOSECONDS);
  }

  private void fired(long generation) {
    lock.lock();
    try {
      if (generation == timerGeneration) {
        timer = null;
        firedAt = timerAt;
      }
    } finally {
      lock.unlock();
    }
    startReady();
  }

  /** Marks the start of a batch's items: meters, stats. */
  private void begin(List<Invocation> members) {
    long now = System.nanoTime();
    long[] waits = new long[members.size()];
    for (int i = 0; i < waits.length; i++) {
      Invocation inv = members.get(i);
      waits[i] = now - inv.received;
      inv.begin();
    }
    recorder.batch(method, members.get(0).meter, waits);
  }

  /**
   * {@return the batch's call scope: its nested calls serve its most patient member, they get the latest deadline;
   * they follow no one member's cancellation (the batch serves the others too), but the batch's: cancelled once
   * every member is (see {@link BatchRun})}
   *
   * @param calls the batch's cancellation
   */
  private CallScope scopeOf(List<Invocation> members, Cancellation calls) {
    long latest = members.get(0).deadline;
    for (Invocation inv : members) {
      if (inv.deadline == 0) {
        return CallScope.of(owner.serviceName(), null, 0, calls);
      }
      if (inv.deadline - latest > 0) {
        latest = inv.deadline;
      }
    }
    return CallScope.of(owner.serviceName(), null, latest, calls);
  }

  private static List<Object> itemsOf(List<Invocation> members) {
    List<Object> items = new ArrayList<>(members.size());
    for (Invocation inv : members) {
      items.add(inv.bound.item());
    }
    return items;
  }

  /** On a virtual thread: runs a batch, answers it, and goes on with the next one while one is ready. */
  private void runBlocking(List<Invocation> first) {
    List<Invocation> members = first;
    while (members != null) {
      long start = System.nanoTime();
      began(members, start);
      Cancellation calls = new Cancellation();
      BatchRun run = new BatchRun(Thread.currentThread(), members.size(), calls);
      members.forEach(inv -> inv.onBatchRun(run));
      Object result = null;
      Throwable error = null;
      CallScope previous = CallScope.enter(scopeOf(members, calls));
      try {
        result = batch.invoke(owner.serviceObject(), itemsOf(members));
      } catch (Throwable t) {
        error = t;
      } finally {
        CallScope.restore(previous);
        run.done();
        members.forEach(Invocation::leftThread);
        Thread.interrupted();
      }
      long ran = System.nanoTime() - start;
      returned();
      answering(members.size());
      answer(members, result, error);
      ended(ran);
      members = take();
    }
    startReady(); // more may have become ready while this thread answered (maxConcurrentBatches > 1)
  }

  private void runOnLoop(List<Invocation> members) {
    long start = System.nanoTime();
    began(members, start);
    Future<?> future;
    // No thread to interrupt here; the calls the method makes before it returns are cancelled once every member is.
    Cancellation calls = new Cancellation();
    BatchRun run = new BatchRun(null, members.size(), calls);
    members.forEach(inv -> inv.onBatchRun(run));
    CallScope previous = CallScope.enter(scopeOf(members, calls));
    try {
      Object returned = batch.invoke(owner.serviceObject(), itemsOf(members));
      future = batch.target().answer(returned, loop);
    } catch (Throwable t) {
      future = Future.failedFuture(t);
    } finally {
      CallScope.restore(previous);
    }
    future.onComplete(ar -> {
      long ran = System.nanoTime() - start;
      members.forEach(Invocation::leftThread); // answered now: a cancel from here on leaves the batch's calls alone
      returned();
      answering(members.size());
      answer(members, ar.result(), ar.cause());
      ended(ran);
      startReady();
    });
  }

  /** Answers every member of a batch (each exactly once) and frees their places; any thread. */
  private void answer(List<Invocation> members, Object result, Throwable error) {
    try {
      for (Invocation inv : members) {
        inv.end();
      }
      if (error != null) {
        for (Invocation inv : members) {
          inv.failWith(error);
        }
      } else if (!(result instanceof List<?> list) || list.size() != members.size()) {
        String got = result == null ? "null" : result instanceof List<?> l ? "a list of " + l.size()
          : "a " + result.getClass().getName();
        for (Invocation inv : members) {
          inv.fail(FailureCode.BAD_RESULT, FailureCode.BAD_RESULT.name(), owner.serviceName() + "." + method
            + " was given " + members.size() + " items and returned " + got + ": a batched method must return "
            + "one element per item, in order", new JsonArray());
        }
      } else {
        for (int i = 0; i < members.size(); i++) {
          Object element = list.get(i);
          if (element instanceof Throwable t) {
            members.get(i).failWith(t); // a per-item failure: this call alone
          } else {
            members.get(i).succeedWith(element);
          }
        }
      }
    } catch (Throwable t) {
      for (Invocation inv : members) {
        inv.fail(FailureCode.SERVICE_ERROR, t.getClass().getName(), "Answering the batch failed: " + t,
          new JsonArray());
      }
    } finally {
      for (Invocation inv : members) {
        admission.released(inv);
      }
    }
  }

  /**
   * A batch's method begins at {@code start}: a batch that waited for its close time corrects the lead with how
   * late (or early) it begins, so that batches begin at their close time.
   */
  private void began(List<Invocation> members, long start) {
    long due = members.get(0).batchDue;
    if (due == 0) {
      return;
    }
    lock.lock();
    try {
      long lead = leadNanos + (long) (EWMA_WEIGHT * (start - due));
      leadNanos = Math.clamp(lead, 0, maxWaitNanos / 2);
    } finally {
      lock.unlock();
    }
  }

  /**
   * A batch's members are about to be answered: they no longer count as running items, so that a caller who hears
   * its answer and then asks for the service's stats does not find its call still in flight (an answer from a
   * virtual thread reaches its caller at once, before this thread ends the batch).
   */
  private void answering(int size) {
    lock.lock();
    try {
      runningItems -= size;
    } finally {
      lock.unlock();
    }
  }

  /** A batch ended: another may start. */
  private void ended(long ranNanos) {
    lock.lock();
    try {
      running--;
      ewmaNanos = ewmaNanos == 0 ? ranNanos : (long) (EWMA_WEIGHT * ranNanos + (1 - EWMA_WEIGHT) * ewmaNanos);
    } finally {
      lock.unlock();
    }
  }

  /**
   * What a running batch's members share: the thread its method runs on (none for a method on the event loop) and
   * the cancellation the calls the method makes follow. When its last member still wanted is cancelled (or answered
   * STOPPING by the drain), the thread is interrupted and those calls cancelled, never before, so that one caller's
   * cancel does not fail the others' calls.
   */
  static final class BatchRun {
    private final Cancellation calls;
    private Thread thread;
    private int wanted;

    /**
     * @param thread  the thread running the batch's method, or {@code null} (a method on the event loop)
     * @param members the batch's members
     * @param calls   what the calls the method makes follow
     */
    BatchRun(Thread thread, int members, Cancellation calls) {
      this.thread = thread;
      this.wanted = members;
      this.calls = calls;
    }

    /**
     * A member no longer wants the result (cancelled, or answered STOPPING at the end of a drain): the last one
     * interrupts the thread, if the method still runs there, and cancels the calls the method made.
     */
    void memberGone() {
      boolean last;
      synchronized (this) {
        last = --wanted == 0;
        if (last && thread != null) {
          thread.interrupt();
        }
      }
      if (last) {
        calls.cancel("every call of its batch was cancelled");
      }
    }

    /** The method has returned: the thread is not interrupted for this batch any more. */
    synchronized void done() {
      thread = null;
    }
  }

  /** Once the instance stops admitting: answers the waiting items STOPPING; any thread. */
  void stop() {
    List<Invocation> dropped;
    lock.lock();
    try {
      stopped = true;
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
      dropped = new ArrayList<>(pending);
      pending.clear();
      waiting = 0;
      forgetIfIdle();
    } finally {
      lock.unlock();
    }
    for (Invocation inv : dropped) {
      owner.stopping(inv, "it was waiting for its batch when the service was undeployed; it did not run");
      admission.released(inv);
    }
  }
}
