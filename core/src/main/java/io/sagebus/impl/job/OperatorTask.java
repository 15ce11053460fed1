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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.LongAdder;

/**
 * One instance of an operator: its input queue, its outputs, and the loop that runs its function
 * on a virtual thread.
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

  final JobImpl job;
  final LogicalNode node;
  final int index;
  final NodeStats stats;
  final BlockingQueue<Object> inbox;
  final List<Output> outputs = new ArrayList<>();
  final List<Output> failureOutputs = new ArrayList<>();
  int expectedEnds;
  private final Logger log;
  private final CallOptions callDefaults;
  private final List<Thread> threads = new ArrayList<>();
  /** Its record spans, or {@code null} when tracing is off; set and used on its own thread. */
  private OperatorTrace trace;

  OperatorTask(JobImpl job, LogicalNode node, int index, NodeStats stats, int queueCapacity) {
    this.job = job;
    this.node = node;
    this.index = index;
    this.stats = stats;
    this.inbox = node.kind().isSource() ? null : new ArrayBlockingQueue<>(queueCapacity);
    this.log = LoggerFactory.getLogger("io.sagebus.operator." + node.name());
    this.callDefaults = node.retry() == null ? CallOptions.create() : CallOptions.create().retry(node.retry());
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

  /** Runs the instance to its end, on a virtual thread. */
  void run() throws Exception {
    enter();
    CURRENT.set(this);
    Cancellation.setAmbient(job.calls()); // the calls its functions make are cancelled with the job
    OperatorTrace.JobTrace jobTrace = job.trace;
    trace = jobTrace == null ? null : jobTrace.operator(node.name(), index);
    OperatorFunction fn = node.function();
    try {
      fn.open();
      try {
        switch (node.kind()) {
          case BATCH -> runBatch((BatchFunction<?>) fn);
          case SOURCE -> runSource((SourceFunction<?>) fn);
          case MAP_ASYNC -> runAsync((AsyncFunction<?, ?>) fn);
          default -> runOperator(fn);
        }
        sendEnd();
      } finally {
        try {
          fn.close();
        } catch (Exception e) {
          log.warn("{} instance {}: close() failed", node.name(), index, e);
        }
      }
    } finally {
      Cancellation.setAmbient(null);
      CURRENT.remove();
      leave();
    }
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
      job.gate.acquire();
      Emission out = new Emission(value);
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
        Emission out = new Emission(record);
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

  /** {@return the next input record, or {@code null} once every upstream instance has ended} */
  private Object nextInput() throws InterruptedException {
    while (endsSeen < expectedEnds) {
      Object element = inbox.take();
      if (element == END) {
        endsSeen++;
      } else if (element == STOP) {
        throw new InterruptedException("the job is stopping");
      } else {
        stats.in.increment();
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
    Emission out = new Emission(element);
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
    stats.errors.increment();
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

  /** mapAsync: this thread starts calls, a second one emits their results, in the order of its {@link AsyncResults}. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private void runAsync(AsyncFunction fn) throws Exception {
    AsyncResults results = AsyncResults.of(node.asyncOrder(), node.asyncCapacity());
    Thread emitter = Thread.ofVirtual().name(node.name() + "#" + index + "-emitter").unstarted(() -> emitResults(results));
    synchronized (this) {
      threads.add(emitter);
    }
    emitter.start();
    try {
      for (Object element = nextInput(); element != null; element = nextInput()) {
        results.acquire();
        Future<?> f;
        OperatorTrace.Record record = trace == null ? null : trace.start();
        try {
          f = (Future<?>) fn.execute(unwrap(element));
          if (f == null) {
            throw new NullPointerException(node.name() + " returned a null Future");
          }
        } catch (Exception e) {
          f = Future.failedFuture(e);
        }
        if (record != null) {
          record.endWith(f);
        }
        results.started(new AsyncResults.Pending(element, f));
      }
      results.finish();
      emitter.join();
      if (emitterFailure != null) {
        throw emitterFailure;
      }
    } finally {
      emitter.interrupt();
      synchronized (this) {
        threads.remove(emitter);
      }
    }
  }

  private volatile InterruptedException emitterFailure;

  private void emitResults(AsyncResults results) {
    CURRENT.set(this);
    try {
      while (true) {
        AsyncResults.Pending p = results.next();
        if (p == AsyncResults.Pending.LAST) {
          return;
        }
        Emission out = new Emission(p.record);
        Object input = out.input;
        try {
          if (p.future.failed()) {
            throw p.future.cause();
          }
          out.emit(p.future.result());
        } catch (Emission.Interrupted e) {
          throw e.cause;
        } catch (Throwable e) {
          if (e instanceof InterruptedException ie) {
            throw ie;
          }
          failed(out, input, e);
        }
        out.done();
        results.release();
      }
    } catch (InterruptedException e) {
      emitterFailure = e;
    } finally {
      CURRENT.remove();
    }
  }

  private void sendEnd() throws InterruptedException {
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
    final Object input;
    final CallTag tag;
    private int emitted;

    Emission(Object element) {
      this.input = unwrap(element);
      this.tag = tagOf(element);
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
      stats.out.increment();
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
        job.gate.release(1);
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

  /** Thrown out of a source's {@code collect} when the job stops. */
  private static final class StopSource extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StopSource() {
      super(null, null, false, false);
    }
  }

  /** {@return records waiting in this instance's input queue now (0 without one)} */
  int queued() {
    BlockingQueue<Object> q = inbox;
    return q == null ? 0 : q.size();
  }

  /** {@return the room of this instance's input queue (0 without one)} */
  int queueCapacity() {
    BlockingQueue<Object> q = inbox;
    return q == null ? 0 : q.size() + q.remainingCapacity();
  }

  /** Per-operator counters, shared by its instances. */
  static final class NodeStats {
    final LongAdder in = new LongAdder();
    final LongAdder out = new LongAdder();
    final LongAdder errors = new LongAdder();
  }

  /** One edge out of this instance, to the instances of a consuming operator. */
  static final class Output {
    private final OperatorTask[] targets;
    private final LogicalNode.Partitioning partitioning;
    private final java.util.function.Function<Object, Object> key;
    private final boolean second;
    private final int senderIndex;
    private int next;

    Output(OperatorTask[] targets, LogicalNode.Input input, int senderIndex) {
      this.targets = targets;
      this.partitioning = input.partitioning();
      this.key = input.key();
      this.second = input.inputIndex() == 1;
      this.senderIndex = senderIndex;
      this.next = senderIndex;
    }

    void send(Object record, CallTag tag) throws InterruptedException {
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

    void sendEnd() throws InterruptedException {
      for (OperatorTask t : targets) {
        t.inbox.put(END);
      }
    }
  }
}
