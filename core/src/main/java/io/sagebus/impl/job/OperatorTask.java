package io.sagebus.impl.job;

import io.sagebus.impl.call.Cancellation;
import io.sagebus.impl.pipeline.LogicalNode;

import io.sagebus.AsyncFunction;
import io.sagebus.BatchFunction;
import io.sagebus.CallOptions;
import io.sagebus.CoMapFunction;
import io.sagebus.FailedRecord;
import io.sagebus.FilterFunction;
import io.sagebus.FlatMapFunction;
import io.sagebus.MapFunction;
import io.sagebus.OnError;
import io.sagebus.OperatorFunction;
import io.sagebus.ServiceClient;
import io.sagebus.SinkFunction;
import io.sagebus.SourceFunction;
import io.sagebus.TaskContext;
import io.sagebus.impl.trace.OperatorTrace;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One instance of an operator: its input queue, its outputs, and the loop that runs its function
 * on a virtual thread. An instance whose only input is a FORWARD edge from an operator of the same
 * parallelism is chained to its upstream instance (as Flink chains operators): it has no queue and
 * no thread of its own, and its upstream instance hands it each record by a method call, on the
 * upstream's thread (for a {@code mapAsync} upstream, on its emitter thread).
 */
public final class OperatorTask implements TaskContext {

  private static final ThreadLocal<OperatorTask> CURRENT = new ThreadLocal<>();

  /** Tells a task whose job is stopping to leave its loop, should its interruption have been swallowed. */
  static final Object STOP = new Object() {
    @Override
    public String toString() {
      return "STOP";
    }
  };

  /** Marks the end of one upstream instance's records. */
  static final Object END = new Object() {
    @Override
    public String toString() {
      return "END";
    }
  };

  /** A record of a coMap's second input. */
  record Second(Object value) {
  }

  /** A record that belongs to one call of a pipeline served as a service. */
  record Tagged(CallTag tag, Object value) {
  }

  private static Object unwrap(Object element) {
    Object e = element instanceof Second s ? s.value : element;
    return e instanceof Tagged t ? t.value : e;
  }

  private static CallTag tagOf(Object element) {
    Object e = element instanceof Second s ? s.value : element;
    return e instanceof Tagged t ? t.tag : null;
  }

  /**
   * The most records an instance takes from its queue in one go (one lock, and one wake-up of a waiting upstream),
   * and never more than a quarter of its queue's capacity.
   */
  private static final int DRAIN_BATCH = 64;

  final JobImpl job;
  final LogicalNode node;
  final int index;
  final NodeStats stats;
  /** Its input queue; {@code null} for a source and for an instance chained to its upstream instance. */
  final BlockingQueue<Object> inbox;
  /** Whether it runs on its upstream instance's thread, handed each record by a call (no queue, no thread). */
  final boolean chained;
  final List<Output> outputs = new ArrayList<>();
  final List<Output> failureOutputs = new ArrayList<>();
  int expectedEnds;
  /** Records taken from the inbox and not processed yet (its own thread only). */
  private final ArrayDeque<Object> drained;
  /** Records it takes from the inbox in one go. */
  private final int drainBatch;
  private final Logger log;
  private final CallOptions callDefaults;
  private final List<Thread> threads = new ArrayList<>();
  /** Its record spans, or {@code null} when tracing is off; set when opened, used on the threads that run it. */
  private OperatorTrace trace;
  /** Whether its function was opened (and must be closed). */
  private boolean opened;
  /** mapAsync: the calls it started, and the thread that emits their results. */
  private AsyncResults results;
  private Thread emitter;
  /** mapAsync: why its emitter ended early, or {@code null}. */
  private volatile Throwable emitterFailure;
  /** A nonBlocking mapAsync's input: threads ending calls take records from the queue ({@link #startCalls}). */
  private static final int POLLING = 0;
  /** A nonBlocking mapAsync's input: its queue ran dry, its starting thread waits for the next record. */
  private static final int TAKING = 1;
  /** A nonBlocking mapAsync's input: every upstream instance ended, and every record's call started. */
  private static final int ENDED = 2;
  /** A nonBlocking mapAsync's input: the job stops. */
  private static final int STOPPED = 3;
  /** A nonBlocking mapAsync: who has its queue ({@link #POLLING} ...). */
  private volatile int input;
  /** A nonBlocking mapAsync: requests to start calls; the thread that raises it from 0 serves them all. */
  private final AtomicInteger starts = new AtomicInteger();
  /** A nonBlocking mapAsync: a record taken from the queue whose call waits for a slot or a place, or {@code null}. */
  private volatile Object held;
  /** A nonBlocking mapAsync: the task that starts calls on the event loop where calls ended, queued once at a time. */
  private final LoopTask queuedStart = new LoopTask(this::startCalls, false);
  /** A nonBlocking mapAsync: what a thread starting calls threw (no call starts after it), or {@code null}. */
  private volatile Throwable startFailure;
  /** A nonBlocking mapAsync: the thread that runs it, and takes its input when the queue ran dry. */
  private volatile Thread starter;
  /** A nonBlocking mapAsync: the job's cancellation, as the threads starting its calls follow it in turn. */
  private volatile Object startAmbient;
  /**
   * What the record being handled yields, reused record after record (one allocation less per record and operator):
   * by a batch source, a map, filter, coMap or sink (on the one thread running it), and by a mapAsync's emitting role.
   */
  private final Emission emission = new Emission();
  /** mapAsync: emits one result, for whichever thread holds the emitting role. */
  private final AsyncResults.Emitter resultEmitter = this::emit;
  /**
   * Records that ended here (a sink's, a filter's dropped ones) whose places at the in-flight gate it gives back
   * together, {@link #gateBatch} at a time and whenever it is about to wait for input: one update of the gate's shared
   * count per batch instead of per record. Only an instance on a thread of its own (not chained, not a mapAsync),
   * which alone touches it.
   */
  private int heldReleases;
  /** How many releases it holds back at most; 1 (none held) for an instance chained or a mapAsync. */
  private final int releaseBatch;
  /** A batch source's places taken at the gate for records it has not sent yet (it takes up to {@link #gateBatch} at once). */
  private int credit;

  OperatorTask(JobImpl job, LogicalNode node, int index, NodeStats stats, int queueCapacity, boolean chained) {
    this.job = job;
    this.node = node;
    this.index = index;
    this.stats = stats;
    this.chained = chained;
    boolean queued = !node.kind().isSource() && !chained;
    this.inbox = queued ? new ArrayBlockingQueue<>(queueCapacity) : null;
    this.drainBatch = Math.max(1, Math.min(DRAIN_BATCH, queueCapacity / 4));
    this.drained = queued ? new ArrayDeque<>(drainBatch) : null;
    this.log = LoggerFactory.getLogger("io.sagebus.operator." + node.name());
    this.callDefaults = node.retry() == null ? CallOptions.create() : CallOptions.create().retry(node.retry());
    this.releaseBatch = queued && node.kind() != LogicalNode.Kind.MAP_ASYNC ? gateBatch(job.gate.cap()) : 1;
  }

  /**
   * {@return how many places at the in-flight gate an instance takes or gives back at once: a sixteenth of the cap, at
   * most 64, so that what sources hold unused and sinks hold back stays a small part of it}
   *
   * @param cap the job's {@code maxRecordsInFlight}
   */
  static int gateBatch(long cap) {
    return (int) Math.max(1, Math.min(64, cap / 16));
  }

  /** A record ended here: its place at the gate is given back, now or with the next ones. */
  private void releaseOne() {
    if (++heldReleases >= releaseBatch) {
      flushReleases();
    }
  }

  /** Gives back the places held back (before it waits for input, and when it ends). */
  private void flushReleases() {
    if (heldReleases > 0) {
      int n = heldReleases;
      heldReleases = 0;
      job.gate.release(n);
    }
  }

  /**
   * {@return the operator instance whose thread this is, or {@code null}}
   */
  public static TaskContext current() {
    return CURRENT.get();
  }

  /**
   * {@return the options of service calls made without options on this operator's thread}
   */
  public static CallOptions callDefaults() {
    OperatorTask t = CURRENT.get();
    return t == null ? CallOptions.create() : t.callDefaults;
  }

  @Override
  public String name() {
    return node.name();
  }

  @Override
  public int index() {
    return index;
  }

  @Override
  public int parallelism() {
    return node.parallelism();
  }

  @Override
  public String jobId() {
    return job.id();
  }

  @Override
  public Logger logger() {
    return log;
  }

  @Override
  public ServiceClient services() {
    return job.services();
  }

  @Override
  public boolean isCancelled() {
    return job.stopping();
  }

  synchronized void interrupt() {
    threads.forEach(Thread::interrupt);
    if (inbox != null) {
      // Records of a stopping job are dropped; the marker wakes a consumer that missed its interrupt.
      inbox.clear();
      inbox.offer(STOP);
    }
  }

  private synchronized void enter() throws InterruptedException {
    if (job.stopping()) {
      throw new InterruptedException("the job is stopping");
    }
    threads.add(Thread.currentThread());
  }

  private synchronized void leave() {
    threads.remove(Thread.currentThread());
  }

  /** Runs the instance to its end, on a virtual thread of its own, with the instances chained to it. */
  void run() throws Exception {
    enter();
    CURRENT.set(this);
    Cancellation.setAmbient(job.calls()); // the calls its functions make are cancelled with the job
    try {
      try {
        openChain();
        switch (node.kind()) {
          case BATCH -> runBatch((BatchFunction<?>) node.function());
          case SOURCE -> runSource((SourceFunction<?>) node.function());
          case MAP_ASYNC -> {
            if (results.startsWhereCallsEnd()) {
              runAsyncWhereCallsEnd();
            } else {
              runAsync();
            }
          }
          default -> runOperator(node.function());
        }
        sendEnd();
      } finally {
        flushReleases();
        if (credit > 0) {
          job.gate.release(credit);
          credit = 0;
        }
        closeChain();
      }
    } finally {
      Cancellation.setAmbient(null);
      CURRENT.remove();
      leave();
    }
  }

  /** Opens its function and those of the instances chained to it, on this thread, in order. */
  private void openChain() throws Exception {
    open();
    for (OperatorTask t : chainedTargets()) {
      OperatorTask caller = CURRENT.get();
      CURRENT.set(t);
      try {
        t.open();
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        throw new ChainedFailure(t, e);
      } finally {
        CURRENT.set(caller);
      }
      t.openChain();
    }
    if (results != null && emitter == null) {
      startEmitter();
    }
  }

  /** The instances chained to this one, directly. */
  private List<OperatorTask> chainedTargets() {
    List<OperatorTask> chain = new ArrayList<>(2);
    for (Output o : outputs) {
      if (o.chainedTarget != null) {
        chain.add(o.chainedTarget);
      }
    }
    for (Output o : failureOutputs) {
      if (o.chainedTarget != null) {
        chain.add(o.chainedTarget);
      }
    }
    return chain;
  }

  private void open() throws Exception {
    if (opened) {
      return; // a chain is a tree: each instance is reached once, but be safe
    }
    OperatorTrace.JobTrace jobTrace = job.trace;
    trace = jobTrace == null ? null : jobTrace.operator(node.name(), index);
    if (node.kind() == LogicalNode.Kind.MAP_ASYNC) {
      // Calls start where earlier ones end only in an instance with a queue: a chained one is handed its records.
      results = AsyncResults.of(node.asyncOrder(), node.asyncCapacity(), node.nonBlocking() && inbox != null);
      if (results.startsWhereCallsEnd()) {
        results.listen(this::callEnded, this::placesFreed);
      }
    }
    node.function().open();
    opened = true;
  }

  /** Closes what {@link #openChain()} opened, this instance first; a close that fails is logged. */
  private void closeChain() {
    if (emitter != null) {
      // Ended already unless the job stops early; then its records go nowhere, and it must leave before what it
      // feeds (chained to it) is closed.
      emitter.interrupt();
      joinUninterruptibly(emitter);
      synchronized (this) {
        threads.remove(emitter);
      }
    }
    if (opened) {
      opened = false;
      OperatorTask caller = CURRENT.get();
      CURRENT.set(this);
      try {
        node.function().close();
      } catch (Exception e) {
        log.warn("{} instance {}: close() failed", node.name(), index, e);
      } finally {
        CURRENT.set(caller);
      }
    }
    for (OperatorTask t : chainedTargets()) {
      t.closeChain();
    }
  }

  private static void joinUninterruptibly(Thread t) {
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A record for a chained instance, on its upstream instance's thread.
   *
   * @param element the record, as an upstream sends it
   * @throws InterruptedException when the job stops (or failed in this instance)
   */
  void accept(Object element) throws InterruptedException {
    if (job.stopping()) {
      throw new InterruptedException("the job is stopping");
    }
    OperatorTask caller = CURRENT.get();
    CURRENT.set(this);
    try {
      stats.in(index);
      if (results != null) {
        startCall(element);
      } else {
        process(node.function(), element);
      }
    } catch (Error e) {
      // On its own thread it would end the job through its thread's end: here the upstream must not take it as its own.
      job.operatorFailed(this, unwrap(element), e);
      throw new InterruptedException("the job failed");
    } finally {
      CURRENT.set(caller);
    }
  }

  /** A chained instance's upstream instance has ended: so does it, once its calls are emitted. */
  void inputEnded() throws Exception {
    if (results != null) {
      finishCalls();
    }
    sendEnd();
  }

  private void runBatch(BatchFunction<?> fn) throws Exception {
    while (!job.stopping()) {
      Object value;
      try {
        value = fn.execute();
      } catch (Exception e) {
        throw new SourceFailure(e);
      }
      if (value == null) {
        return;
      }
      if (credit == 0) {
        credit = job.gate.acquireUpTo(gateBatch(job.gate.cap()));
      }
      credit--;
      Emission out = emission.of(value);
      out.emit(value);
      out.done();
    }
    throw new InterruptedException("cancelled");
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void runSource(SourceFunction fn) throws Exception {
    try {
      fn.run(record -> {
        if (job.stopping()) {
          throw new StopSource();
        }
        try {
          job.gate.acquire();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new StopSource();
        }
        Emission out = new Emission().of(record); // a source may emit from threads of its own
        out.emit(record);
        out.done();
      });
    } catch (StopSource e) {
      throw new InterruptedException("cancelled");
    } catch (Exception e) {
      if (job.stopping()) {
        throw new InterruptedException("cancelled");
      }
      throw new SourceFailure(e);
    }
  }

  private void runOperator(OperatorFunction fn) throws InterruptedException {
    for (Object element = nextInput(); element != null; element = nextInput()) {
      process(fn, element);
    }
  }

  private int endsSeen;

  /**
   * {@return the next input record, or {@code null} once every upstream instance has ended} Takes what its queue
   * holds in one go, up to {@link #drainBatch} records, and waits only when it is empty.
   */
  private Object nextInput() throws InterruptedException {
    while (endsSeen < expectedEnds) {
      Object element = drained.poll();
      if (element == null) {
        if (inbox.drainTo(drained, drainBatch) > 0) {
          continue;
        }
        flushReleases(); // what it held back goes before it waits: the sources may be waiting for those places
        element = inbox.take();
      }
      if (element == END) {
        endsSeen++;
      } else if (element == STOP || job.stopping()) {
        // The records of a stopping job are dropped (the queue was cleared; those taken already too).
        throw new InterruptedException("the job is stopping");
      } else {
        stats.in(index);
        return element;
      }
    }
    return null;
  }

  private void process(OperatorFunction fn, Object element) throws InterruptedException {
    OperatorTrace.Record record = trace == null ? null : trace.start();
    try {
      processRecord(fn, element);
    } finally {
      if (record != null) {
        record.end();
      }
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void processRecord(OperatorFunction fn, Object element) throws InterruptedException {
    // A flatMap hands its emission to the function, which could keep it: a fresh one for each record.
    Emission out = node.kind() == LogicalNode.Kind.FLAT_MAP ? new Emission().of(element) : emission.of(element);
    Object value = out.input;
    try {
      switch (node.kind()) {
        case MAP -> out.emit(((MapFunction) fn).execute(value));
        case FILTER -> {
          if (((FilterFunction) fn).execute(value)) {
            out.emit(value);
          }
        }
        case FLAT_MAP -> ((FlatMapFunction) fn).execute(value, out::emit);
        case CO_MAP -> out.emit(element instanceof Second
          ? ((CoMapFunction) fn).map2(value) : ((CoMapFunction) fn).map1(value));
        case SINK -> {
          if (fn instanceof CallTag.Collecting && out.tag != null) {
            out.tag.collect(value);
          } else {
            ((SinkFunction) fn).execute(value);
          }
        }
        default -> throw new IllegalStateException("not an operator: " + node.kind());
      }
    } catch (Emission.Interrupted e) {
      throw e.cause;
    } catch (Exception | StackOverflowError e) {
      failed(out, value, e);
    }
    out.done();
  }

  private void failed(Emission out, Object value, Throwable e) throws InterruptedException {
    if (job.stopping()) {
      // Whatever the function threw, it was most likely our interruption: the job is ending anyway.
      throw new InterruptedException("the job is stopping");
    }
    stats.error(index);
    OperatorTrace.Record record = trace == null ? null : OperatorTrace.currentRecord();
    if (record != null) {
      record.failed(e);
    }
    OnError policy = node.onError();
    if (policy == OnError.FAIL) {
      job.operatorFailed(this, value, e);
      throw new InterruptedException("the job failed");
    }
    job.recordError(node.name() + " skipped " + JobImpl.shorten(value) + ": " + e);
    if (policy == OnError.SIDE_OUTPUT) {
      out.emitTo(failureOutputs, new FailedRecord(node.name(), value, e.getClass().getName(), e.getMessage()));
    }
  }

  /** mapAsync with a queue: this thread starts calls, its emitter thread emits their results. */
  private void runAsync() throws Exception {
    for (Object element = nextInput(); element != null; element = nextInput()) {
      startCall(element);
    }
    finishCalls();
  }

  /** mapAsync: starts the call of one record, once a slot is free (the capacity bounds the calls in flight). */
  private void startCall(Object element) throws InterruptedException {
    results.acquire(resultEmitter);
    call(element);
  }

  /** mapAsync: starts the call of one record, which holds a slot. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private void call(Object element) {
    Future<?> f;
    OperatorTrace.Record record = trace == null ? null : trace.start();
    try {
      f = (Future<?>) ((AsyncFunction) node.function()).execute(unwrap(element));
      if (f == null) {
        throw new NullPointerException(node.name() + " returned a null Future");
      }
    } catch (Exception e) {
      f = Future.failedFuture(e);
    }
    if (record != null) {
      record.endWith(f);
    }
    results.started(element, f);
  }

  /**
   * A nonBlocking mapAsync with a queue ({@link io.sagebus.DataStream#nonBlocking()}): its calls start where earlier
   * ones end ({@link #callEnded}), and on this thread, which takes its input only when the queue ran dry, then waits
   * until the input ended; its emitter thread emits the results.
   */
  private void runAsyncWhereCallsEnd() throws Exception {
    starter = Thread.currentThread();
    startAmbient = Cancellation.newAmbient(job.calls());
    startCalls();
    while (true) {
      Throwable failure = startFailure;
      if (failure instanceof Exception e) {
        throw e;
      } else if (failure instanceof Error e) {
        throw e;
      }
      int state = input;
      if (state == ENDED) {
        break;
      }
      if (state == STOPPED || job.stopping()) {
        throw new InterruptedException("the job is stopping");
      }
      if (state == TAKING) {
        Object element = inbox.take(); // only this thread takes from the queue now
        if (element == END) {
          if (++endsSeen == expectedEnds) {
            input = ENDED;
          }
        } else if (element == STOP) {
          throw new InterruptedException("the job is stopping");
        } else {
          stats.in(index);
          held = element; // before the queue is handed back: a thread starting calls reads the state first
          input = POLLING;
          startCalls();
        }
        continue;
      }
      LockSupport.park(this);
      if (Thread.interrupted()) {
        throw new InterruptedException("the mapAsync operator is stopping");
      }
    }
    finishCalls();
  }

  /**
   * A call of a nonBlocking mapAsync ended (its slot is free again), on the thread that completed it: on an event
   * loop, the next calls start in a task of their own after the completing one (one task for all the loop's
   * completions until it runs), outside whatever context completed it; elsewhere at once.
   */
  private void callEnded() {
    ContextInternal context = ContextInternal.current();
    if (context != null && context.isEventLoopContext() && context.inThread()) {
      queuedStart.request(context.nettyEventLoop());
      return;
    }
    startCalls();
  }

  /** Emitted results gave their places back: a record waiting for one may start. */
  private void placesFreed() {
    if (held != null) {
      startCalls();
    }
  }

  /**
   * Starts the calls of a nonBlocking mapAsync's next records while slots and places are free: one thread at a time,
   * the one that raised {@link #starts} from 0, for every request made meanwhile, on any thread; as the operator's own
   * (its {@link #current()}, its job's cancellation followed).
   */
  private void startCalls() {
    if (starts.getAndIncrement() != 0) {
      return;
    }
    OperatorTask caller = CURRENT.get();
    CURRENT.set(this);
    Object ambient = Cancellation.swapAmbient(startAmbient);
    try {
      int missed = 1;
      do {
        startWhatCan();
        missed = starts.addAndGet(-missed);
      } while (missed != 0);
    } catch (Throwable e) {
      // An Error out of the function: the starting thread fails the operator with it (no call starts any more).
      startFailure = e;
      LockSupport.unpark(starter);
    } finally {
      Cancellation.swapAmbient(ambient);
      CURRENT.set(caller);
    }
  }

  /** In {@link #startCalls}: starts what it can, then leaves the input to the starting thread when it ran dry. */
  private void startWhatCan() {
    while (true) {
      if (input != POLLING) {
        return; // the starting thread has the queue, or the input ended
      }
      if (job.stopping()) {
        stopStarts(STOPPED); // what is held or queued is dropped
        return;
      }
      Object element = held; // read after the state: a record the starting thread handed back is seen
      if (element == null) {
        element = inbox.poll();
        if (element == null) {
          stopStarts(TAKING); // the starting thread waits for the next record
          return;
        }
        if (element == END) {
          if (++endsSeen == expectedEnds) {
            stopStarts(ENDED);
            return;
          }
          continue;
        }
        if (element == STOP) {
          stopStarts(STOPPED);
          return;
        }
        stats.in(index);
        if (!results.tryStart()) {
          held = element;
          // Announced before looking again: whoever frees a place after this look finds the record held.
          if (!results.tryStart()) {
            return;
          }
          held = null;
        }
      } else {
        if (!results.tryStart()) {
          return; // still held; the next call's end or emitted results start it
        }
        held = null;
      }
      call(element);
    }
  }

  /** Leaves the input to the starting thread, in {@code state}, and wakes it. */
  private void stopStarts(int state) {
    input = state;
    LockSupport.unpark(starter);
  }

  /** mapAsync: no call will start any more; returns once every result was emitted. */
  private void finishCalls() throws Exception {
    results.finish();
    emitter.join();
    Throwable failure = emitterFailure;
    if (failure instanceof Exception e) {
      throw e;
    } else if (failure instanceof Error e) {
      throw e;
    }
  }

  private void startEmitter() {
    Thread t = Thread.ofVirtual().name(node.name() + "#" + index + "-emitter").unstarted(this::emitResults);
    synchronized (this) {
      threads.add(t);
    }
    emitter = t;
    results.emitterThread(t);
    t.start();
  }

  /**
   * The emitter thread's loop: in the emitting role, emits what is ready, freeing their slots every quarter of the
   * capacity and when nothing more is ready; then parks out of the role until a result may be ready (meanwhile a
   * starting thread that needs a slot may take the role: see {@link AsyncResults#acquire}).
   */
  private void emitResults() {
    CURRENT.set(this);
    Cancellation.setAmbient(job.calls()); // instances chained after it run here, and their calls stop with the job
    int batch = Math.max(1, results.capacity() / 4);
    try {
      while (true) {
        boolean end = false;
        results.role.lockInterruptibly();
        try {
          while (true) {
            int n = results.drain(resultEmitter, batch);
            if (n < 0) {
              results.release(-1 - n);
              end = true;
              break;
            }
            if (n > 0) {
              results.release(n);
            }
            if (n < batch) {
              break;
            }
          }
          if (!end) {
            results.waitInRole();
          }
        } finally {
          results.role.unlock();
        }
        if (end) {
          return;
        }
        results.awaitReady();
      }
    } catch (InterruptedException e) {
      emitterFailure = e;
    } catch (RuntimeException | Error e) {
      emitterFailure = e;
      job.operatorFailed(this, null, e);
    } finally {
      Cancellation.setAmbient(null);
      CURRENT.remove();
    }
  }

  /** Emits one completed call's result, or handles its failure as the operator's policy says. */
  private void emit(Object record, Future<?> future) throws InterruptedException {
    Emission out = emission.of(record); // in the emitting role: one result at a time
    Object input = out.input;
    try {
      if (future.failed()) {
        throw future.cause();
      }
      out.emit(future.result());
    } catch (Emission.Interrupted e) {
      throw e.cause;
    } catch (Throwable e) {
      if (e instanceof InterruptedException ie) {
        throw ie;
      }
      failed(out, input, e);
    }
    out.done();
  }

  private void sendEnd() throws Exception {
    for (Output o : outputs) {
      o.sendEnd();
    }
    for (Output o : failureOutputs) {
      o.sendEnd();
    }
  }

  /**
   * What one input record yields. It arrived holding one in-flight token; every copy sent
   * downstream holds one, so the first emission reuses the input's and later ones add. A served
   * pipeline's call counts its records apart and releases the input's token only when the input
   * is done.
   */
  private final class Emission {
    Object input;
    CallTag tag;
    private int emitted;

    /**
     * Starts the emission of one input record; {@return this} The instance's own {@link #emission} serves each record
     * in turn where one thread at a time handles its records.
     */
    Emission of(Object element) {
      this.input = unwrap(element);
      this.tag = tagOf(element);
      this.emitted = 0;
      return this;
    }

    void emit(Object record) {
      if (record == null) {
        throw new NullPointerException(node.name() + " produced null for the record " + JobImpl.shorten(input)
          + ": null records are not allowed (use filter to drop a record)");
      }
      emitTo(outputs, record);
    }

    void emitTo(List<Output> targets, Object emitted) {
      Object record = unwrap(emitted);
      int copies = targets.size();
      long extra = this.emitted == 0 ? copies - 1 : copies;
      if (extra > 0) {
        job.gate.add(extra);
      } else if (extra < 0) {
        job.gate.release(-extra);
      }
      if (tag != null) {
        // A call's count keeps the input's token until done(): a flatMap emits one record at a time, and its
        // first output can reach the end before the next is emitted, which must not answer the call early.
        tag.add(copies);
      }
      this.emitted++;
      stats.out(index);
      try {
        for (Output o : targets) {
          o.send(record, tag);
        }
      } catch (InterruptedException e) {
        throw new Interrupted(e);
      }
    }

    void done() {
      if (emitted == 0) {
        releaseOne();
      }
      if (tag != null) {
        tag.add(-1);
      }
    }

    /** Carries an interruption through a function's {@code collect} call. */
    static final class Interrupted extends RuntimeException {
      private static final long serialVersionUID = 1L;
      final transient InterruptedException cause;

      Interrupted(InterruptedException cause) {
        super(cause);
        this.cause = cause;
      }
    }
  }

  /** A source's own failure (not a cancellation). */
  static final class SourceFailure extends Exception {
    private static final long serialVersionUID = 1L;

    SourceFailure(Throwable cause) {
      super(cause);
    }
  }

  /** A chained instance's function failed to open: the job fails in that instance, not in the one it runs on. */
  static final class ChainedFailure extends Exception {
    private static final long serialVersionUID = 1L;
    final transient OperatorTask task;

    ChainedFailure(OperatorTask task, Throwable cause) {
      super(cause);
      this.task = task;
    }
  }

  /** Thrown out of a source's {@code collect} when the job stops. */
  private static final class StopSource extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StopSource() {
      super(null, null, false, false);
    }
  }

  /**
   * {@return records waiting in this instance's input queue now (0 without one: a source, or an instance chained to its
   * upstream)} Those it has taken from the queue in one go count as taken, as the one it processes does.
   */
  int queued() {
    BlockingQueue<Object> q = inbox;
    return q == null ? 0 : q.size();
  }

  /** {@return the room of this instance's input queue (0 without one)} */
  int queueCapacity() {
    BlockingQueue<Object> q = inbox;
    return q == null ? 0 : q.size() + q.remainingCapacity();
  }

  /** One edge out of this instance, to the instances of a consuming operator. */
  static final class Output {
    private final OperatorTask[] targets;
    private final LogicalNode.Partitioning partitioning;
    private final java.util.function.Function<Object, Object> key;
    private final boolean second;
    private final int senderIndex;
    /** The instance this edge hands records to by a call on the sender's thread, when chained; else {@code null}. */
    final OperatorTask chainedTarget;
    private int next;

    Output(OperatorTask[] targets, LogicalNode.Input input, int senderIndex) {
      this.targets = targets;
      this.partitioning = input.partitioning();
      this.key = input.key();
      this.second = input.inputIndex() == 1;
      this.senderIndex = senderIndex;
      this.next = senderIndex;
      OperatorTask forward = targets[senderIndex % targets.length];
      this.chainedTarget = forward.chained ? forward : null;
    }

    void send(Object record, CallTag tag) throws InterruptedException {
      if (chainedTarget != null) {
        chainedTarget.accept(tag == null ? record : new Tagged(tag, record));
        return;
      }
      OperatorTask target = switch (partitioning) {
        case FORWARD -> targets[senderIndex % targets.length];
        case REBALANCE -> targets[Math.floorMod(next++, targets.length)];
        case KEY -> {
          Object k = key.apply(record);
          if (k == null) {
            throw new NullPointerException("keyBy returned a null key for the record " + JobImpl.shorten(record));
          }
          yield targets[Math.floorMod(k.hashCode(), targets.length)];
        }
      };
      Object element = tag == null ? record : new Tagged(tag, record);
      target.inbox.put(second ? new Second(element) : element);
    }

    void sendEnd() throws Exception {
      if (chainedTarget != null) {
        chainedTarget.inputEnded();
        return;
      }
      for (OperatorTask t : targets) {
        t.inbox.put(END);
      }
    }
  }
}
