package io.sagebus.impl.service;

import io.sagebus.FailureCode;
import io.sagebus.impl.Json;
import io.sagebus.impl.call.Cancellation;
import io.sagebus.impl.call.CallScope;
import io.sagebus.impl.wire.Protocol;
import io.sagebus.impl.registry.ServiceMethods;
import io.sagebus.impl.ops.ServiceOps;
import io.sagebus.impl.wire.CallReply;
import io.sagebus.impl.trace.Tracing;
import io.opentelemetry.context.Scope;
import io.vertx.core.Completable;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

/**
 * The invocation part of a service instance: one admitted call. It is answered exactly once,
 * whoever gets there first (its method, the deadline, a drain), through {@link #succeedWith} or
 * {@link #fail}: the only places a call is claimed, recorded and answered.
 */
final class Invocation implements Completable<Object>, CallScope {

  final Message<Object> message;
  final String service;
  final String method;
  final ServiceMethods.Bound bound;
  final long received;
  /** {@link System#nanoTime()} at which the caller's budget is spent, or 0 for none. */
  final long deadline;
  final String requestId;
  /** Whether the caller is Sagebus (it gets a {@link CallReply}) or a foreign sender (it gets plain JSON). */
  final boolean sagebusCaller;
  /** This method's meters, or {@code null} when metrics are off. */
  final ServiceOps.ServerMeters meter;
  private final Recorder recorder;
  private static final AtomicIntegerFieldUpdater<Invocation> ANSWERED =
    AtomicIntegerFieldUpdater.newUpdater(Invocation.class, "answered");
  /** 1 once answered (through {@link #ANSWERED}: no object more per call). */
  private volatile int answered;
  /**
   * Whether it came on the direct path from a caller on a virtual thread in this JVM (a job's operator, a
   * virtual-thread verticle). After such a call its runner waits briefly for the caller's next one: the
   * caller runs again on the runner's carrier as it yields. After a lone call from an event loop or over
   * the bus it does not (see {@code ServiceInstance.awaitBriefly}).
   */
  boolean direct;
  /**
   * Whether it is being read and admitted on its caller's thread, inside the caller's call (a direct call to a service
   * whose methods may block): a method that runs on the event loop then starts in a task of its own, not inside the
   * caller's call, even when the caller is on that loop.
   */
  boolean inCaller;
  /** When its method began, {@code 0} before. */
  long startedNanos;
  /** When its method ended ({@link #end()}), {@code 0} before. */
  private long endedNanos;
  /**
   * For a batch's first member: when its batch was due to begin (its close time), or 0 when it began full;
   * its batcher learns from it how late its batches begin.
   */
  long batchDue;
  /** The virtual thread running the method, while it runs (interrupted when cancelled or after the drain timeout). */
  private Thread thread;
  /** For a member of a running batch: what it shares with the others (the method's thread, the calls' signal). */
  private Batcher.BatchRun shared;
  private static final AtomicReferenceFieldUpdater<Invocation, Cancellation> CANCELLATION =
    AtomicReferenceFieldUpdater.newUpdater(Invocation.class, Cancellation.class, "cancellation");
  /**
   * Its cancellation, made on first use ({@link #cancellation()}): the calls its method makes follow it, and a Future
   * method hears it through its CallContext. Most calls make no nested call: they make no signal.
   */
  private volatile Cancellation cancellation;
  /** Why the calls it makes were cancelled, once they were ({@link #cancelCalls}); {@code null} before. */
  private volatile String callsCancelled;
  /** Its server span, or {@code null} when tracing is off. */
  Tracing.ServerTrace trace;
  /** Its span's scope on the thread running its method, while it runs. */
  private Scope traceScope;
  private Invocation prev;
  private Invocation next;
  /** The list of calls holding a slot it is in: the admission's stripe (guarded as the list is). */
  int stripe;
  /** The instance whose loop runs its Future method, which it tells when that Future completes; else {@code null}. */
  ServiceInstance runningOn;

  Invocation(Message<Object> message, String service, String method, ServiceMethods.Bound bound, long received,
             long deadline, String requestId, boolean sagebusCaller, ServiceOps.ServerMeters meter, Recorder recorder) {
    this.message = message;
    this.service = service;
    this.method = method;
    this.bound = bound;
    this.received = received;
    this.deadline = deadline;
    this.requestId = requestId;
    this.sagebusCaller = sagebusCaller;
    this.meter = meter;
    this.recorder = recorder;
  }

  /** {@return the head of an empty list of invocations} */
  static Invocation sentinel() {
    Invocation head = new Invocation(null, null, null, null, 0, 0, null, false, null, null);
    head.prev = head;
    head.next = head;
    return head;
  }

  /**
   * The Future its method returned on the loop completed: its instance answers it and frees its slot. It is that
   * Future's listener itself, so that a Future method's call costs no listener object.
   *
   * @param result  the method's result
   * @param failure its failure, or {@code null}
   */
  @Override
  public void complete(Object result, Throwable failure) {
    runningOn.loopMethodEnded(this, result, failure);
  }

  /** {@return whether its method runs on a virtual thread (it returns a plain value)} */
  boolean blocking() {
    return bound.target().kind() == ServiceMethods.Kind.BLOCKING;
  }

  /** {@return whether the caller's budget is spent now} */
  boolean expired() {
    return expired(System.nanoTime());
  }

  /**
   * {@return whether the caller's budget is spent at {@code now}}
   *
   * @param now {@link System#nanoTime()} now, or a moment ago
   */
  boolean expired(long now) {
    return deadline != 0 && now - deadline >= 0;
  }

  /** Marks the start of its method, for the meters and the execution time. */
  void begin() {
    begin(System.nanoTime());
  }

  /**
   * Marks the start of its method.
   *
   * @param now {@link System#nanoTime()} now (the arrival's, when it runs as it arrives)
   */
  void begin(long now) {
    startedNanos = now;
    recorder.started(meter, startedNanos - received);
    if (trace != null) {
      traceScope = trace.begin(startedNanos - received);
    }
  }

  /** Its method returned (a value, or its Future) on the thread that {@link #begin() began} it. */
  void left() {
    if (traceScope != null) {
      traceScope.close();
      traceScope = null;
    }
  }

  /** Marks the end of its method, for the meters and its execution time; counted before the answer leaves. */
  void end() {
    endedNanos = System.nanoTime();
    recorder.ended(meter, endedNanos - startedNanos);
  }

  /**
   * Answers the call with its result, or with {@link FailureCode#SERVICE_ERROR} when the result
   * cannot be mapped to JSON.
   *
   * @param result what the method returned
   */
  void succeedWith(Object result) {
    long micros = executedMicros();
    Object wire;
    try {
      wire = Json.toWire(result);
    } catch (Throwable e) {
      fail(FailureCode.SERVICE_ERROR, IllegalArgumentException.class.getName(), "The result of "
        + bound.target().signature() + " cannot be mapped to JSON: " + e, Protocol.stackOf(e));
      return;
    }
    if (claim()) {
      recorder.succeeded(micros);
      if (trace != null) {
        trace.succeeded(micros);
      }
      if (sagebusCaller) {
        message.reply(new CallReply(wire, micros));
      } else {
        message.reply(new CallReply(wire, micros).toJson());
      }
    }
  }

  /**
   * Answers the call with what its method threw.
   *
   * @param t the failure
   */
  void failWith(Throwable t) {
    fail(FailureCode.SERVICE_ERROR, t.getClass().getName(), t.getMessage(), Protocol.stackOf(t));
  }

  /**
   * Answers the call with a failure, if nobody answered it yet.
   *
   * @param code  why
   * @param type  the remote exception type, or the code's name
   * @param text  the message
   * @param stack stack frames, possibly empty
   * @return whether this answered it
   */
  boolean fail(FailureCode code, String type, String text, JsonArray stack) {
    if (claim()) {
      // Only a method that ran and failed counts as executed (a drained or expired call does not).
      long executed = code == FailureCode.SERVICE_ERROR && startedNanos != 0 ? executedMicros() : -1;
      recorder.failed(meter, code, executed);
      if (trace != null) {
        trace.failed(code, text, executed);
      }
      Protocol.fail(message, code, type, text, stack);
      return true;
    }
    return false;
  }

  /** Its method runs on this thread from now on, until {@link #leftThread()}. */
  synchronized void onThread(Thread t) {
    thread = t;
  }

  /**
   * Its method has returned on its thread: from now on the thread is not interrupted for it. The caller
   * then clears the thread's interrupt flag, should an interrupt have come just before.
   */
  synchronized void leftThread() {
    thread = null;
    shared = null;
  }

  /**
   * Its batch's method runs for it and the other members, until {@link #leftThread()}: the method's thread is
   * interrupted, and the calls it made cancelled, only once every member is cancelled (one member's cancel must
   * not stop the others' work).
   */
  void onBatchRun(Batcher.BatchRun run) {
    boolean gone;
    synchronized (this) {
      gone = !open();
      if (!gone) {
        shared = run;
      }
    }
    if (gone) {
      run.memberGone(); // answered (cancelled) between entering the batch and the batch's start
    }
  }

  /**
   * Interrupts the thread running its method, if one still does; never another call's thread, and a batch's
   * thread (and the calls its batch made) only when this was its last member still wanted.
   */
  void interrupt() {
    Batcher.BatchRun run;
    synchronized (this) {
      run = shared;
      shared = null;
      if (run == null && thread != null && thread.isVirtual()) {
        thread.interrupt();
      }
    }
    if (run != null) {
      run.memberGone(); // outside this call's lock: it may cancel the batch's calls, whose callbacks may answer it
    }
  }

  /**
   * Cancels the call: answers it CANCELLED (if nobody answered it yet), interrupts its method's thread,
   * and cancels the calls it made.
   *
   * @param code   {@link FailureCode#CANCELLED}, or {@link FailureCode#DEADLINE_EXCEEDED} when its caller gave up
   * @param reason why, as the cancel gave it
   * @return whether this answered it
   */
  boolean cancel(FailureCode code, String reason) {
    boolean answered = fail(code, code.name(), "The call to " + service + "." + method + " was cancelled: " + reason,
      new JsonArray());
    if (answered) {
      interrupt();
    }
    cancelCalls(reason);
    return answered;
  }

  /**
   * Cancels the calls its method made and makes: its signal, now or as it is made.
   *
   * @param reason why
   */
  void cancelCalls(String reason) {
    if (callsCancelled == null) {
      callsCancelled = reason;
    }
    Cancellation c = cancellation;
    if (c != null) {
      c.cancel(reason);
    }
  }

  /** {@return the service it calls} */
  @Override
  public String service() {
    return service;
  }

  /** {@return its request id, or {@code null} (a foreign sender gave none)} */
  @Override
  public String requestId() {
    return requestId;
  }

  /** {@return {@link System#nanoTime()} at which its caller's budget is spent, or 0 for none} */
  @Override
  public long deadlineNanos() {
    return deadline;
  }

  /**
   * {@return its cancellation, made on first use; cancelled at once when {@link #cancelCalls} came first} Both read
   * what the other wrote (volatile fields): a cancel that finds no signal is seen by whoever makes it.
   */
  @Override
  public Cancellation cancellation() {
    Cancellation c = cancellation;
    if (c != null) {
      return c;
    }
    Cancellation made = new Cancellation();
    if (!CANCELLATION.compareAndSet(this, null, made)) {
      return cancellation;
    }
    String reason = callsCancelled;
    if (reason != null) {
      made.cancel(reason);
    }
    return made;
  }

  /** {@return whether nobody answered it yet} */
  boolean open() {
    return answered == 0;
  }

  private long executedMicros() {
    return startedNanos == 0 ? 0 : ((endedNanos != 0 ? endedNanos : System.nanoTime()) - startedNanos) / 1000;
  }

  private boolean claim() {
    return ANSWERED.compareAndSet(this, 0, 1);
  }

  /** Appends {@code inv} to the list this sentinel heads. */
  void link(Invocation inv) {
    inv.prev = prev;
    inv.next = this;
    prev.next = inv;
    prev = inv;
  }

  /** Removes this invocation from its list, if it is in one. */
  void unlink() {
    if (next != null) {
      prev.next = next;
      next.prev = prev;
      prev = null;
      next = null;
    }
  }

  /** {@return the invocations of the list this sentinel heads} */
  List<Invocation> linked() {
    List<Invocation> list = new ArrayList<>();
    for (Invocation i = next; i != this; i = i.next) {
      list.add(i);
    }
    return list;
  }
}
