package io.sagebus;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.sagebus.impl.trace.Tracing;
import io.sagebus.impl.wire.CallReply;
import io.sagebus.impl.wire.Protocol;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.FailingService;
import io.sagebus.testing.FlakyService;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Sagebus's OpenTelemetry spans in one JVM, exported by the real SDK to its in-memory exporter:
 * a record through an operator, a service and a nested service is one trace with the right
 * parents; retries show as attempts; a failed call carries its code; off, no header is sent.
 */
@ExtendWith(VertxExtension.class)
class TracingTest {

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private OpenTelemetrySdk sdk;
  private LocalEnvironment env;

  /** Calls the "inner" service with what it is given: the nested call. */
  public static class OuterService {
    private final ServiceContext context;

    /**
     * @param context the instance's context
     */
    public OuterService(ServiceContext context) {
      this.context = context;
    }

    /**
     * {@return what inner answered, wrapped}
     *
     * @param value anything
     */
    public String process(String value) {
      return "outer(" + context.services().<String>call("inner", value) + ")";
    }
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    sdk = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
      .build();
    env = LocalEnvironment.create(vertx, "traced",
      new EnvironmentOptions().setTracingEnabled(true).setOpenTelemetry(sdk));
  }

  @AfterEach
  void tearDown() {
    env.close().await();
    sdk.close();
  }

  @Test
  void aRecordThroughAnOperatorAServiceAndANestedServiceIsOneTrace() {
    env.registerService("outer", OuterService.class);
    env.registerService("inner", EchoService.class);
    List<String> out = new CopyOnWriteArrayList<>();
    env.fromBatch(List.of("r1"))
      .map(v -> (String) env.services().call("outer", v)).name("enrich")
      .sink(out::add).name("collect");
    Job job = env.submit().await();
    assertThat(job.completion().await().status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(out).containsExactly("outer(r1)");

    // The job's span ends after its completion is reported: wait for it.
    List<SpanData> spans = awaitSpans(s -> s.getName().startsWith("job "));
    System.out.println("Spans of one record (operator -> outer -> inner):\n" + tree(spans));

    SpanData jobSpan = one(spans, s -> s.getName().equals("job " + job.id()));
    SpanData operator = one(spans, s -> s.getName().equals("enrich"));
    assertThat(operator.getParentSpanContext().isValid()).as("a record's span is the root of its trace").isFalse();
    assertThat(operator.getLinks()).extracting(l -> l.getSpanContext().getSpanId())
      .containsExactly(jobSpan.getSpanId());
    assertThat(operator.getAttributes().get(Tracing.JOB)).isEqualTo(job.id());
    assertThat(spans).noneMatch(s -> s.getName().equals("collect")); // it calls no service: no span

    SpanData callOuter = childOf(spans, operator, "call outer.process");
    SpanData attemptOuter = childOf(spans, callOuter, "outer.process");
    SpanData serverOuter = childOf(spans, attemptOuter, "outer.process");
    SpanData callInner = childOf(spans, serverOuter, "call inner.process");
    SpanData attemptInner = childOf(spans, callInner, "inner.process");
    SpanData serverInner = childOf(spans, attemptInner, "inner.process");

    assertThat(List.of(callOuter, attemptOuter, serverOuter, callInner, attemptInner, serverInner))
      .allSatisfy(s -> assertThat(s.getTraceId()).isEqualTo(operator.getTraceId()));
    assertThat(attemptOuter.getKind()).isEqualTo(SpanKind.CLIENT);
    assertThat(serverOuter.getKind()).isEqualTo(SpanKind.SERVER);
    assertThat(serverInner.getKind()).isEqualTo(SpanKind.SERVER);

    String requestId = callOuter.getAttributes().get(Tracing.REQUEST_ID);
    assertThat(requestId).isNotBlank();
    assertThat(serverOuter.getAttributes().get(Tracing.REQUEST_ID)).isEqualTo(requestId);
    assertThat(callInner.getAttributes().get(Tracing.REQUEST_ID)).isNotEqualTo(requestId);
    assertThat(callInner.getAttributes().get(Tracing.CALLER)).isEqualTo("outer");
    assertThat(callOuter.getAttributes().get(Tracing.SERVICE)).isEqualTo("outer");
    assertThat(callOuter.getAttributes().get(Tracing.METHOD)).isEqualTo("process");
    assertThat(callOuter.getAttributes().get(Tracing.OUTCOME)).isEqualTo("OK");
    assertThat(callOuter.getAttributes().get(Tracing.ATTEMPTS)).isEqualTo(1L);
    assertThat(serverOuter.getAttributes().get(Tracing.ATTEMPT)).isEqualTo(1L);
    assertThat(serverOuter.getAttributes().get(Tracing.OUTCOME)).isEqualTo("OK");
    assertThat(serverOuter.getAttributes().get(Tracing.QUEUE_WAIT)).isNotNull().isGreaterThanOrEqualTo(0L);
    // The outer method ran at least as long as the inner call it made.
    Long outerMicros = serverOuter.getAttributes().get(Tracing.EXECUTION_TIME);
    assertThat(outerMicros).isNotNull()
      .isGreaterThanOrEqualTo(serverInner.getAttributes().get(Tracing.EXECUTION_TIME));
    assertThat(attemptOuter.getAttributes().get(Tracing.EXECUTION_TIME)).isEqualTo(outerMicros);
    // Each child lies within its parent.
    for (SpanData[] pair : new SpanData[][]{{operator, callOuter}, {callOuter, attemptOuter},
      {attemptOuter, serverOuter}, {serverOuter, callInner}}) {
      assertThat(pair[1].getStartEpochNanos()).isGreaterThanOrEqualTo(pair[0].getStartEpochNanos());
      assertThat(pair[1].getEndEpochNanos()).isLessThanOrEqualTo(pair[0].getEndEpochNanos());
    }
    assertThat(jobSpan.getAttributes().get(Tracing.JOB_STATUS)).isEqualTo("COMPLETED");
  }

  @Test
  void aFailedCallsSpansCarryItsCode() {
    env.registerService("profile", FailingService.class);
    env.start().await();
    assertThatThrownBy(() -> env.services().callAsync("profile", "ada").await())
      .isInstanceOf(ServiceCallException.class);
    List<SpanData> spans = awaitSpans(s -> s.getName().equals("call profile.process"));
    SpanData call = one(spans, s -> s.getName().equals("call profile.process"));
    SpanData server = one(spans, s -> s.getKind() == SpanKind.SERVER);
    for (SpanData s : List.of(call, server)) {
      assertThat(s.getAttributes().get(Tracing.OUTCOME)).isEqualTo(FailureCode.SERVICE_ERROR.name());
      assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    }
    assertThat(call.getEvents()).anyMatch(e -> e.getName().equals("exception"));

    assertThatThrownBy(() -> env.services().callAsync("profile", CallOptions.method("nope"), "ada").await())
      .isInstanceOf(ServiceCallException.class);
    List<SpanData> refused = awaitSpans(s -> s.getName().equals("call profile.nope"));
    assertThat(one(refused, s -> s.getKind() == SpanKind.SERVER && s.getName().equals("profile.nope"))
      .getAttributes().get(Tracing.OUTCOME)).isEqualTo(FailureCode.UNKNOWN_METHOD.name());
  }

  @Test
  void aRetriedCallHasASpanPerAttemptUnderIt() {
    AtomicInteger calls = new AtomicInteger();
    env.registerService("flaky", () -> new FlakyService(1, calls),
      new ServiceOptions().setMaxConcurrency(2).setDrainTimeout(Duration.ofMillis(100)));
    env.start().await();
    Object result = env.services().callAsync("flaky", CallOptions.create()
      .retry(new RetryPolicy().setAttemptTimeout(Duration.ofSeconds(2)).setInitialBackoff(Duration.ofMillis(10))),
      "x").await();
    assertThat(result).isEqualTo("x");
    List<SpanData> spans = awaitSpans(s -> s.getName().equals("call flaky.process"));
    SpanData call = one(spans, s -> s.getName().equals("call flaky.process"));
    assertThat(call.getAttributes().get(Tracing.ATTEMPTS)).isEqualTo(2L);
    List<SpanData> attempts = spans.stream()
      .filter(s -> s.getKind() == SpanKind.CLIENT && s.getParentSpanId().equals(call.getSpanId()))
      .sorted(Comparator.comparing(s -> s.getAttributes().get(Tracing.ATTEMPT))).toList();
    assertThat(attempts).extracting(s -> s.getAttributes().get(Tracing.ATTEMPT)).containsExactly(1L, 2L);
    assertThat(attempts).extracting(s -> s.getAttributes().get(Tracing.OUTCOME)).containsExactly("TIMEOUT", "OK");
    SpanData secondServer = one(spans, s -> s.getKind() == SpanKind.SERVER
      && s.getParentSpanId().equals(attempts.get(1).getSpanId()));
    assertThat(secondServer.getAttributes().get(Tracing.ATTEMPT)).isEqualTo(2L);
    assertThat(secondServer.getAttributes().get(Tracing.REQUEST_ID))
      .isEqualTo(call.getAttributes().get(Tracing.REQUEST_ID));
  }

  @Test
  void theTraceContextTravelsInHeadersOnlyWhenTracingIsOn(Vertx vertx) {
    LocalEnvironment plain = LocalEnvironment.create(vertx, "plain", new EnvironmentOptions());
    List<MultiMap> seen = new CopyOnWriteArrayList<>();
    // Consumers deployed by hand at the service addresses: they see the headers of every request.
    MessageConsumer<Object> tracedPeek = vertx.eventBus().consumer(Protocol.serviceAddress("traced", "peek"), m -> {
      seen.add(m.headers());
      m.reply(new CallReply("ok", 0));
    });
    MessageConsumer<Object> plainPeek = vertx.eventBus().consumer(Protocol.serviceAddress("plain", "peek"), m -> {
      seen.add(m.headers());
      m.reply(new CallReply("ok", 0));
    });
    try {
      tracedPeek.completion().await();
      plainPeek.completion().await();
      assertThat(plain.services().<String>callAsync("peek", "x").await()).isEqualTo("ok");
      assertThat(seen.get(0).isEmpty()).as("no header when tracing is off: %s", seen.get(0)).isTrue();
      assertThat(env.services().<String>callAsync("peek", "x").await()).isEqualTo("ok");
      assertThat(seen.get(1).get("traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
      assertThat(seen.get(1).get(Tracing.ATTEMPT_HEADER)).isEqualTo("1");
    } finally {
      tracedPeek.unregister().await();
      plainPeek.unregister().await();
      plain.close().await();
    }
  }

  @Test
  void withoutAnOpenTelemetryTheSdkIsConfiguredFromTheOtelVariables(Vertx vertx) {
    // otel.* system properties stand for the OTEL_* variables; no exporter is needed to make spans.
    System.setProperty("otel.traces.exporter", "none");
    try {
      LocalEnvironment auto = LocalEnvironment.create(vertx, "auto", new EnvironmentOptions().setTracingEnabled(true));
      try {
        auto.registerService("echo", EchoService.class);
        assertThat(auto.services().<String>callAsync("echo", "x").await()).isEqualTo("x");
      } finally {
        auto.close().await();
      }
      assertThat(exporter.getFinishedSpanItems()).as("not the handed-in SDK's").isEmpty();
    } finally {
      System.clearProperty("otel.traces.exporter");
    }
  }

  private List<SpanData> awaitSpans(Predicate<SpanData> last) {
    await().atMost(Duration.ofSeconds(60)).until(() -> exporter.getFinishedSpanItems().stream().anyMatch(last));
    return exporter.getFinishedSpanItems();
  }

  private static SpanData one(List<SpanData> spans, Predicate<SpanData> p) {
    List<SpanData> found = spans.stream().filter(p).toList();
    assertThat(found).as("spans matching, in:\n%s", tree(spans)).hasSize(1);
    return found.get(0);
  }

  private static SpanData childOf(List<SpanData> spans, SpanData parent, String name) {
    return one(spans, s -> s.getName().equals(name) && s.getParentSpanId().equals(parent.getSpanId()));
  }

  /** The spans as an indented tree, roots first, with the attributes a reader looks for. */
  static String tree(List<SpanData> spans) {
    Map<String, List<SpanData>> children = spans.stream().collect(Collectors.groupingBy(SpanData::getParentSpanId));
    StringBuilder sb = new StringBuilder();
    spans.stream().filter(s -> !s.getParentSpanContext().isValid())
      .sorted(Comparator.comparingLong(SpanData::getStartEpochNanos))
      .forEach(root -> append(sb, root, children, 0));
    return sb.toString();
  }

  private static void append(StringBuilder sb, SpanData s, Map<String, List<SpanData>> children, int depth) {
    sb.append("  ".repeat(depth)).append(s.getName()).append(" [").append(s.getKind()).append(", ")
      .append((s.getEndEpochNanos() - s.getStartEpochNanos()) / 1000).append(" us]");
    for (AttributeKey<?> k : List.of(Tracing.REQUEST_ID, Tracing.ATTEMPT, Tracing.QUEUE_WAIT,
      Tracing.EXECUTION_TIME, Tracing.OUTCOME)) {
      Object v = s.getAttributes().get(k);
      if (v != null) {
        sb.append(' ').append(k.getKey()).append('=').append(v);
      }
    }
    if (!s.getLinks().isEmpty()) {
      sb.append(" (linked to span ").append(s.getLinks().get(0).getSpanContext().getSpanId()).append(")");
    }
    sb.append('\n');
    children.getOrDefault(s.getSpanId(), List.of()).stream()
      .sorted(Comparator.comparingLong(SpanData::getStartEpochNanos))
      .forEach(c -> append(sb, c, children, depth + 1));
  }
}
