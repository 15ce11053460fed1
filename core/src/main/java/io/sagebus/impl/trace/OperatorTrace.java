package io.sagebus.impl.trace;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.vertx.core.AsyncResult;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * The spans of a job's operator instance: a span per record it processes, made only when that
 * processing calls a service (the first call makes it, with the record's start as its start), so
 * operators that call no service cost nothing more. Each record's span is the root of its own
 * trace, linked to the job's span: the SDK's sampler (e.g. {@code OTEL_TRACES_SAMPLER=traceidratio})
 * picks the records, and a long job is not one endless trace.
 */
public final class OperatorTrace {

  private final Tracing tracing;
  private final JobTrace job;
  private final String operator;
  private final long instance;
  private final Record record = new Record();

  private OperatorTrace(Tracing tracing, JobTrace job, String operator, int instance) {
    this.tracing = tracing;
    this.job = job;
    this.operator = operator;
    this.instance = instance;
  }

  /**
   * A record starts on this thread: calls made until {@link Record#end} are children of its span.
   *
   * @return the record, to end
   */
  public Record start() {
    record.startNanos = System.nanoTime();
    record.span = null;
    record.failure = null;
    // An operator chained to another runs inside its upstream's record: that record is current again after this one.
    record.previous = Record.CURRENT.get();
    Record.CURRENT.set(record);
    return record;
  }

  /** A job's span, ended with its status. */
  public static final class JobTrace {
    private final Tracing tracing;
    private final String jobId;
    private final Span span;

    JobTrace(Tracing tracing, String jobId, Span span) {
      this.tracing = tracing;
      this.jobId = jobId;
      this.span = span;
    }

    /**
     * {@return the trace of one operator instance of this job}
     *
     * @param operator the operator's name
     * @param instance its instance index
     */
    public OperatorTrace operator(String operator, int instance) {
      return new OperatorTrace(tracing, this, operator, instance);
    }

    SpanContext spanContext() {
      return span.getSpanContext();
    }

    /**
     * Ends the job's span.
     *
     * @param status the job's final status
     * @param ar     the job's outcome
     */
    public void ended(String status, AsyncResult<?> ar) {
      span.setAttribute(Tracing.JOB_STATUS, status);
      if (ar.failed()) {
        span.setStatus(StatusCode.ERROR, String.valueOf(ar.cause().getMessage()));
        span.recordException(ar.cause());
      }
      span.end();
    }
  }

  /** The record an operator instance processes now, on its thread. */
  public final class Record {
    /** Per operator thread: operators run on virtual threads, each task on one. */
    private static final ThreadLocal<Record> CURRENT = new ThreadLocal<>();

    private long startNanos;
    /** The record this one runs inside (its upstream's, on a chained operator's thread), or {@code null}. */
    private Record previous;
    private Span span;
    private Context context;
    private Throwable failure;

    private Record() {
    }

    static Record current() {
      return CURRENT.get();
    }

    /** {@return the record's context, its span made on first use} */
    Context context() {
      if (span == null) {
        long startEpochNanos = epochNanos(Instant.now()) - (System.nanoTime() - startNanos);
        span = tracing.tracer().spanBuilder(operator)
          .setNoParent()
          .addLink(job.spanContext())
          .setSpanKind(SpanKind.INTERNAL)
          .setStartTimestamp(startEpochNanos, TimeUnit.NANOSECONDS)
          .setAttribute(Tracing.JOB, job.jobId)
          .setAttribute(Tracing.OPERATOR, operator)
          .setAttribute(Tracing.OPERATOR_INSTANCE, instance)
          .setAttribute(Tracing.ENVIRONMENT, tracing.environment())
          .startSpan();
        context = Context.root().with(span);
      }
      return context;
    }

    /**
     * The function failed on this record.
     *
     * @param t what it threw
     */
    public void failed(Throwable t) {
      failure = t;
    }

    /** The record is done on this thread: its span, if it has one, ends. */
    public void end() {
      leave();
      if (span != null) {
        end(span, failure);
        span = null;
        context = null;
      }
    }

    /**
     * The record's function returned a Future (mapAsync): the record leaves this thread, and its
     * span, if the function called a service, ends with that Future.
     *
     * @param outcome the Future the function returned
     */
    public void endWith(io.vertx.core.Future<?> outcome) {
      leave();
      Span s = span;
      span = null;
      context = null;
      if (s != null) {
        outcome.onComplete(ar -> end(s, ar.failed() ? ar.cause() : null));
      }
    }

    /** This record is no longer current on this thread: the one it ran inside is again, if any. */
    private void leave() {
      Record outer = previous;
      previous = null;
      if (outer != null) {
        CURRENT.set(outer);
      } else {
        CURRENT.remove();
      }
    }

    private void end(Span s, Throwable t) {
      if (t != null) {
        Tracing.failed(s, Tracing.outcomeOf(t), t);
      }
      s.end();
    }
  }

  /**
   * {@return the current record of this thread's operator, if any}
   */
  public static Record currentRecord() {
    return Record.current();
  }

  private static long epochNanos(Instant i) {
    return TimeUnit.SECONDS.toNanos(i.getEpochSecond()) + i.getNano();
  }
}
