package io.sagebus.impl.trace;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.sagebus.EnvironmentOptions;
import io.sagebus.FailureCode;
import io.sagebus.ServiceCallException;
import io.sagebus.ServiceNotFoundException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.sagebus.impl.wire.CallReply;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * An environment's tracing: Sagebus's own OpenTelemetry spans for calls (a span per call, a
 * client span per attempt), service invocations (a server span), jobs and the records their
 * operators process. {@link #OFF} when tracing is off: then nothing is made, no header is sent,
 * and each hook in the call path costs a field read and a null check.
 * <p>
 * The trace context crosses the event bus as W3C {@code traceparent}/{@code tracestate}
 * headers, in one JVM and between cluster JVMs alike, and only when tracing is on.
 */
public final class Tracing {

  private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);

  /** Tracing off: {@link #enabled()} is false and nothing else may be called. */
  public static final Tracing OFF = new Tracing(null, null, null, null);

  /** Instrumentation scope name of Sagebus's spans. */
  public static final String SCOPE = "io.sagebus";

  /** Header carrying the attempt number of a call, sent only when tracing is on. */
  public static final String ATTEMPT_HEADER = "sagebus-attempt";

  /** Span attribute: the RPC system, always {@code sagebus}. */
  public static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  /** Span attribute: the called service. */
  public static final AttributeKey<String> SERVICE = AttributeKey.stringKey("rpc.service");
  /** Span attribute: the called method. */
  public static final AttributeKey<String> METHOD = AttributeKey.stringKey("rpc.method");
  /** Span attribute: the environment. */
  public static final AttributeKey<String> ENVIRONMENT = AttributeKey.stringKey("sagebus.environment");
  /** Span attribute: the request id, kept across the attempts of a call. */
  public static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("sagebus.request_id");
  /** Span attribute: who calls (a service name, or {@code client}). */
  public static final AttributeKey<String> CALLER = AttributeKey.stringKey("sagebus.caller");
  /** Span attribute: the attempt number (1 for the first). */
  public static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("sagebus.attempt");
  /** Span attribute of a call: how many attempts it made. */
  public static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("sagebus.attempts");
  /** Span attribute: {@code OK}, a {@link FailureCode} name, or {@code NO_HANDLERS}/{@code NOT_FOUND}/... */
  public static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("sagebus.outcome");
  /** Span attribute: microseconds between arrival at the instance and the start of the method. */
  public static final AttributeKey<Long> QUEUE_WAIT = AttributeKey.longKey("sagebus.queue_wait_us");
  /** Span attribute: microseconds the method ran, as the instance measured it. */
  public static final AttributeKey<Long> EXECUTION_TIME = AttributeKey.longKey("sagebus.execution_time_us");
  /** Span attribute: the job id. */
  public static final AttributeKey<String> JOB = AttributeKey.stringKey("sagebus.job");
  /** Span attribute: the operator name. */
  public static final AttributeKey<String> OPERATOR = AttributeKey.stringKey("sagebus.operator");
  /** Span attribute: the operator instance. */
  public static final AttributeKey<Long> OPERATOR_INSTANCE = AttributeKey.longKey("sagebus.operator.instance");
  /** Span attribute: the job's final status. */
  public static final AttributeKey<String> JOB_STATUS = AttributeKey.stringKey("sagebus.job.status");
  /** Span attribute of a call answered from the result cache or shared with an equal call: {@code hit}, ... */
  public static final AttributeKey<String> CACHE = AttributeKey.stringKey("sagebus.cache");

  private static final TextMapGetter<MultiMap> HEADERS = (carrier, key) -> carrier == null ? null : carrier.get(key);

  private final String environment;
  private final Tracer tracer;
  private final TextMapPropagator propagator;
  /** The SDK this environment made from the OTEL_* variables and must close, or {@code null}. */
  private final AutoCloseable owned;

  private Tracing(String environment, Tracer tracer, TextMapPropagator propagator, AutoCloseable owned) {
    this.environment = environment;
    this.tracer = tracer;
    this.propagator = propagator;
    this.owned = owned;
  }

  /**
   * {@return the tracing an environment's options ask for: {@link #OFF}, the handed-in
   * OpenTelemetry, or the SDK configured from the {@code OTEL_*} variables}
   *
   * @param environment the environment name
   * @param options     its options
   * @throws IllegalStateException when tracing is on, nothing was handed in and the SDK's
   *                               autoconfigure module is not on the class path
   */
  public static Tracing create(String environment, EnvironmentOptions options) {
    if (!options.isTracingEnabled()) {
      return OFF;
    }
    OpenTelemetry otel = options.getOpenTelemetry();
    AutoCloseable owned = null;
    if (otel == null) {
      try {
        AutoConfigured sdk = AutoConfigured.create();
        otel = sdk.openTelemetry();
        owned = sdk;
      } catch (NoClassDefFoundError e) {
        throw new IllegalStateException("Tracing is enabled for environment '" + environment + "' and no "
          + "OpenTelemetry was handed in (EnvironmentOptions.setOpenTelemetry), so Sagebus configures the SDK from "
          + "the OTEL_* variables; that needs io.opentelemetry:opentelemetry-sdk-extension-autoconfigure on the "
          + "class path (missing: " + e.getMessage() + ")", e);
      }
    }
    TextMapPropagator propagator = otel.getPropagators().getTextMapPropagator();
    if (propagator.fields().isEmpty()) {
      // An SDK built without propagators would keep every call's server span out of its trace.
      propagator = W3CTraceContextPropagator.getInstance();
    }
    return new Tracing(environment, otel.getTracer(SCOPE), propagator, owned);
  }

  /** {@return whether tracing is on} */
  public boolean enabled() {
    return tracer != null;
  }

  /**
   * Flushes and shuts down the SDK this environment configured itself; a handed-in
   * OpenTelemetry is its owner's to close.
   *
   * @return completes when done
   */
  public Future<Void> close() {
    if (owned != null) {
      try {
        owned.close();
      } catch (Exception e) {
        LOG.warn("Environment '{}': closing its OpenTelemetry SDK failed", environment, e);
      }
    }
    return Future.succeededFuture();
  }

  /**
   * {@return the context a new call or job is a child of: the current span, else the record an
   * operator on this thread is processing}
   */
  Context parent() {
    Context current = Context.current();
    if (Span.fromContext(current).getSpanContext().isValid()) {
      return current;
    }
    OperatorTrace.Record record = OperatorTrace.Record.current();
    return record != null ? record.context() : current;
  }

  Tracer tracer() {
    return tracer;
  }

  String environment() {
    return environment;
  }

  // ---- calls ----

  /**
   * Starts the span of a call, a child of the caller's current span or operator record.
   *
   * @param service   the service
   * @param method    the method
   * @param requestId the request id
   * @param caller    who calls
   * @return the call's trace
   */
  public CallTrace call(String service, String method, String requestId, String caller) {
    Span span = tracer.spanBuilder("call " + service + "." + method)
      .setParent(parent())
      .setSpanKind(SpanKind.INTERNAL)
      .setAttribute(RPC_SYSTEM, "sagebus")
      .setAttribute(SERVICE, service)
      .setAttribute(METHOD, method)
      .setAttribute(ENVIRONMENT, environment)
      .setAttribute(REQUEST_ID, requestId)
      .setAttribute(CALLER, caller)
      .startSpan();
    return new CallTrace(span, service + "." + method);
  }

  /** The span of one call and the client spans of its attempts. */
  public final class CallTrace {
    private final Span span;
    private final String name;
    private final Context context;
    private int attempts;

    private CallTrace(Span span, String name) {
      this.span = span;
      this.name = name;
      this.context = Context.root().with(span);
    }

    /**
     * Starts an attempt: a client span under the call's, whose context (and the attempt
     * number) it puts in the request's headers.
     *
     * @param attempt  the attempt number, 1 for the first
     * @param delivery the request's delivery options
     * @return the attempt, to {@link Attempt#ended end}
     */
    public Attempt attempt(int attempt, DeliveryOptions delivery) {
      attempts = Math.max(attempts, attempt);
      Span a = tracer.spanBuilder(name)
        .setParent(context)
        .setSpanKind(SpanKind.CLIENT)
        .setAttribute(RPC_SYSTEM, "sagebus")
        .setAttribute(ATTEMPT, (long) attempt)
        .startSpan();
      Context ctx = context.with(a);
      propagator.inject(ctx, delivery, (d, key, value) -> d.addHeader(key, value));
      delivery.addHeader(ATTEMPT_HEADER, Integer.toString(attempt));
      return new Attempt(a);
    }

    /**
     * Marks a call that no request went out for: answered from the cache or shared.
     *
     * @param how {@code hit} or {@code coalesced}
     */
    public void cache(String how) {
      span.setAttribute(CACHE, how);
    }

    /**
     * Ends the call's span with its outcome.
     *
     * @param ar the call's outcome
     */
    public void ended(AsyncResult<?> ar) {
      span.setAttribute(ATTEMPTS, (long) attempts);
      if (ar.succeeded()) {
        span.setAttribute(OUTCOME, "OK");
      } else {
        failed(span, outcomeOf(ar.cause()), ar.cause());
      }
      span.end();
    }
  }

  /** One attempt's client span. */
  public final class Attempt {
    private final Span span;

    private Attempt(Span span) {
      this.span = span;
    }

    /**
     * Ends the attempt's span with what the bus answered, and the execution time a Sagebus reply gives.
     *
     * @param ar the reply or its failure
     */
    public void ended(AsyncResult<? extends Message<?>> ar) {
      if (ar.succeeded()) {
        span.setAttribute(OUTCOME, "OK");
        long micros = executionMicros(ar.result());
        if (micros >= 0) {
          span.setAttribute(EXECUTION_TIME, micros);
        }
      } else {
        failed(span, outcomeOf(ar.cause()), ar.cause());
      }
      span.end();
    }
  }

  private static long executionMicros(Message<?> reply) {
    Object body;
    try {
      body = reply.body();
    } catch (RuntimeException e) {
      return -1; // the caller reports the unreadable reply
    }
    if (body instanceof CallReply r) {
      return r.executionTimeMicros();
    }
    return body instanceof JsonObject json && json.getValue(CallReply.EXECUTION_TIME_MICROS) instanceof Number n
      ? n.longValue() : -1;
  }

  // ---- service instances ----

  /**
   * Starts the server span of a request that arrived at an instance: a child of the context its
   * headers carry, or a new trace when they carry none (a foreign sender).
   *
   * @param message   the request
   * @param service   the service
   * @param method    the method
   * @param requestId the request id, or {@code null}
   * @return its trace
   */
  public ServerTrace server(Message<?> message, String service, String method, String requestId) {
    MultiMap headers = message.headers();
    Context parent = headers == null || headers.isEmpty() ? Context.root()
      : propagator.extract(Context.root(), headers, HEADERS);
    io.opentelemetry.api.trace.SpanBuilder builder = tracer.spanBuilder(service + "." + method)
      .setParent(parent)
      .setSpanKind(SpanKind.SERVER)
      .setAttribute(RPC_SYSTEM, "sagebus")
      .setAttribute(SERVICE, service)
      .setAttribute(METHOD, method)
      .setAttribute(ENVIRONMENT, environment);
    if (requestId != null) {
      builder.setAttribute(REQUEST_ID, requestId);
    }
    String attempt = headers == null ? null : headers.get(ATTEMPT_HEADER);
    if (attempt != null) {
      try {
        builder.setAttribute(ATTEMPT, Long.parseLong(attempt));
      } catch (NumberFormatException e) {
        LOG.debug("Ignoring a bad {} header: {}", ATTEMPT_HEADER, attempt);
      }
    }
    return new ServerTrace(builder.startSpan());
  }

  /**
   * Traces a request refused before it could run (unknown method, bad arguments): a server span
   * that ends at once with its code.
   *
   * @param message   the request
   * @param service   the service
   * @param method    the method
   * @param requestId the request id, or {@code null}
   * @param code      why it was refused
   * @param text      the message
   */
  public void refused(Message<?> message, String service, String method, String requestId, FailureCode code,
                      String text) {
    server(message, service, method, requestId).failed(code, text);
  }

  /** The server span of one invocation. */
  public static final class ServerTrace {
    private final Span span;

    private ServerTrace(Span span) {
      this.span = span;
    }

    /**
     * The method starts on this thread: its span becomes current, so the calls the method makes
     * are its children.
     *
     * @param queueWaitNanos how long it waited at the instance
     * @return the scope to close when the method returns (or returns its Future)
     */
    public io.opentelemetry.context.Scope begin(long queueWaitNanos) {
      span.setAttribute(QUEUE_WAIT, TimeUnit.NANOSECONDS.toMicros(queueWaitNanos));
      return span.makeCurrent();
    }

    /**
     * Ends the span of an invocation that succeeded.
     *
     * @param executionMicros how long the method ran
     */
    public void succeeded(long executionMicros) {
      span.setAttribute(OUTCOME, "OK");
      span.setAttribute(EXECUTION_TIME, executionMicros);
      span.end();
    }

    /**
     * Ends the span of an invocation answered with a failure.
     *
     * @param code why
     * @param text the message
     */
    public void failed(FailureCode code, String text) {
      span.setAttribute(OUTCOME, code.name());
      span.setStatus(StatusCode.ERROR, code.name() + (text == null ? "" : ": " + text));
      span.end();
    }

    /**
     * Ends the span of an invocation answered with a failure, with how long its method ran.
     *
     * @param code            why
     * @param text            the message
     * @param executionMicros how long the method ran, or -1 when it did not
     */
    public void failed(FailureCode code, String text, long executionMicros) {
      if (executionMicros >= 0) {
        span.setAttribute(EXECUTION_TIME, executionMicros);
      }
      failed(code, text);
    }
  }

  // ---- jobs ----

  /**
   * Starts a job's span.
   *
   * @param jobId the job id
   * @return its trace
   */
  public OperatorTrace.JobTrace job(String jobId) {
    Span span = tracer.spanBuilder("job " + jobId)
      .setParent(parent())
      .setSpanKind(SpanKind.INTERNAL)
      .setAttribute(JOB, jobId)
      .setAttribute(ENVIRONMENT, environment)
      .startSpan();
    return new OperatorTrace.JobTrace(this, jobId, span);
  }

  // ---- helpers ----

  static void failed(Span span, String outcome, Throwable cause) {
    span.setAttribute(OUTCOME, outcome);
    span.setStatus(StatusCode.ERROR, outcome + (cause == null ? "" : ": " + cause.getMessage()));
    if (cause != null) {
      span.recordException(cause);
    }
  }

  /** {@return the outcome attribute of a failure: its code, or what the bus said} */
  static String outcomeOf(Throwable t) {
    if (t instanceof ServiceCallException e) {
      return e.code().name();
    }
    if (t instanceof ServiceNotFoundException) {
      return "NOT_FOUND";
    }
    if (t instanceof ReplyException re) {
      FailureCode code = FailureCode.fromCode(re.failureCode());
      return code != null ? code.name() : re.failureType().name();
    }
    return t.getClass().getSimpleName();
  }
}
