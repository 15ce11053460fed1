package io.sagebus.impl.service;

import io.sagebus.BatchPolicy;
import io.sagebus.FailureCode;
import io.sagebus.impl.call.CallScope;
import io.sagebus.impl.registry.ServiceMethods;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The batching part of a service instance, one per batched method: gathers the admitted items of
 * concurrent calls and runs the method once per batch, then answers each call with its element.
 * A batch closes when it is full, when its first item has waited the policy's max wait, or when
 * waiting longer would spend its tightest member's budget (deadline less the observed invocation
 * time, an EWMA). Confined to the instance's event loop; the method runs on a virtual thread
 * (a plain List) or on that loop (a Future). Every item it takes is answered and released, whatever
 * the method does.
 */
final class Batcher {

  /** Weight of the newest invocation time in the EWMA. */
  private static final double EWMA_WEIGHT = 0.2;
  /** Least and most time kept for an answer's way back to its caller: a tenth of its budget in between. */
  private static final long MIN_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long MAX_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final ServiceInstance owner;
  private final String method;
  private final ServiceMethods.Batch batch;
  private final int maxSize;
  private final long maxWaitNanos;
  private final int maxBatches;
  private final Admission admission;
  private final Recorder recorder;
  private final ContextInternal loop;
  private final ArrayDeque<Invocation> pending = new ArrayDeque<>();
  /** Items waiting, readable from other threads (stats). */
  private volatile int waiting;
  /** Items in running batches, readable from other threads (stats). */
  private volatile int runningItems;
  private int running;
  private boolean stopped;
  /** Observed invocation time, nanoseconds; 0 before the first batch ended. */
  private long ewmaNanos;
  private ScheduledFuture<?> timer;
  private long timerAt;

  Batcher(ServiceInstance owner, String method, ServiceMethods.Batch batch, Admission admission, Recorder recorder,
          ContextInternal loop) {
    this.owner = owner;
    this.method = method;
    this.batch = batch;
    BatchPolicy policy = batch.policy();
    this.maxSize = policy.getMaxSize();
    this.maxWaitNanos = policy.getMaxWait().toNanos();
    this.maxBatches = policy.getMaxConcurrentBatches();
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
   * Takes an item held by {@link Admission#hold(Invocation)}; on the loop. An item whose budget
   * is spent is answered DEADLINE_EXCEEDED and never enters a batch.
   */
  void add(Invocation inv) {
    if (stopped) {
      owner.stopping(inv, "it arrived while the service was being undeployed; it did not run");
      admission.released(inv);
      return;
    }
    if (owner.expired(inv)) {
      admission.released(inv);
      return;
    }
    pending.add(inv);
    waiting = pending.size();
    schedule();
  }

  /** Starts the batches that may start now, and sets the timer for the next close. */
  private void schedule() {
    while (!stopped && running < maxBatches && !pending.isEmpty()) {
      if (pending.size() < maxSize && System.nanoTime() - closeAt() < 0) {
        arm(closeAt());
        return;
      }
      launch();
    }
  }

  /**
   * {@return when the waiting items must go: their first's max wait, or the tightest member's deadline
   * less the observed invocation time and a margin for the answer's way back}
   */
  private long closeAt() {
    long at = pending.peek().received + maxWaitNanos;
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

  private void arm(long at) {
    if (timer != null) {
      if (timerAt - at <= 0) {
        return; // an earlier one is set: it looks again
      }
      timer.cancel(false);
    }
    timerAt = at;
    long delay = Math.max(0, at - System.nanoTime());
    // The netty loop's own scheduler: to the microsecond, where a Vert.x timer rounds to milliseconds.
    timer = loop.nettyEventLoop().schedule(() -> loop.emit(v -> {
      timer = null;
      schedule();
    }), delay, TimeUnit.NANOSECONDS);
  }

  /** Takes up to maxSize waiting items that are still live, and runs them as one batch. */
  private void launch() {
    List<Invocation> members = new ArrayList<>(Math.min(maxSize, pending.size()));
    while (members.size() < maxSize && !pending.isEmpty()) {
      Invocation inv = pending.poll();
      if (!inv.open() || owner.expired(inv)) {
        admission.released(inv); // answered (or just now DEADLINE_EXCEEDED): it never enters a batch
      } else {
        members.add(inv);
      }
    }
    waiting = pending.size();
    if (members.isEmpty()) {
      return;
    }
    running++;
    runningItems += members.size();
    long now = System.nanoTime();
    long[] waits = new long[members.size()];
    List<Object> items = new ArrayList<>(members.size());
    boolean unbounded = false;
    long latest = members.get(0).deadline;
    for (int i = 0; i < waits.length; i++) {
      Invocation inv = members.get(i);
      waits[i] = now - inv.received;
      items.add(inv.bound.item());
      inv.begin();
      if (inv.deadline == 0) {
        unbounded = true;
      } else if (inv.deadline - latest > 0) {
        latest = inv.deadline;
      }
    }
    recorder.batch(method, members.get(0).meter, waits);
    // Nested calls made by the batch serve its most patient member: they get the latest deadline.
    CallScope scope = new CallScope(owner.serviceName(), null, unbounded ? 0 : latest);
    if (batch.target().kind() == ServiceMethods.Kind.BLOCKING) {
      owner.onVirtualThread(() -> runBlocking(members, items, scope));
    } else {
      runOnLoop(members, items, scope);
    }
  }

  private void runBlocking(List<Invocation> members, List<Object> items, CallScope scope) {
    long start = System.nanoTime();
    Thread self = Thread.currentThread();
    members.forEach(inv -> inv.thread = self);
    Object result = null;
    Throwable error = null;
    CallScope previous = CallScope.enter(scope);
    try {
      result = batch.invoke(owner.serviceObject(), items);
    } catch (Throwable t) {
      error = t;
    } finally {
      CallScope.restore(previous);
      members.forEach(inv -> inv.thread = null);
      Thread.interrupted();
    }
    finish(members, result, error, start);
  }

  private void runOnLoop(List<Invocation> members, List<Object> items, CallScope scope) {
    long start = System.nanoTime();
    Future<?> future;
    CallScope previous = CallScope.enter(scope);
    try {
      Object returned = batch.invoke(owner.serviceObject(), items);
      if (returned instanceof Future<?> f) {
        future = f;
      } else if (returned instanceof CompletionStage<?> cs) {
        future = Future.fromCompletionStage(cs, loop);
      } else {
        future = Future.failedFuture(new IllegalStateException(batch.target().signature() + " returned null"));
      }
    } catch (Throwable t) {
      future = Future.failedFuture(t);
    } finally {
      CallScope.restore(previous);
    }
    future.onComplete(ar -> finish(members, ar.result(), ar.cause(), start));
  }

  /** Answers every member of a batch (each exactly once) and frees their places; any thread. */
  private void finish(List<Invocation> members, Object result, Throwable error, long start) {
    long ran = System.nanoTime() - start;
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
            members.get(i).succeed(element);
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
      loop.runOnContext(v -> ended(members.size(), ran));
    }
  }

  /** On the loop: a batch ended, so another may start. */
  private void ended(int size, long ranNanos) {
    running--;
    runningItems -= size;
    ewmaNanos = ewmaNanos == 0 ? ranNanos : (long) (EWMA_WEIGHT * ranNanos + (1 - EWMA_WEIGHT) * ewmaNanos);
    schedule();
  }

  /** On the loop, once the instance stops admitting: answers the waiting items STOPPING. */
  void stop() {
    stopped = true;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    for (Invocation inv : pending) {
      owner.stopping(inv, "it was waiting for its batch when the service was undeployed; it did not run");
      admission.released(inv);
    }
    pending.clear();
    waiting = 0;
  }
}
