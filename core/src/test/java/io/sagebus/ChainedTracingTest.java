package io.sagebus;

import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.sagebus.testing.EchoService;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Record spans of chained operators: an operator chained to another runs inside its upstream's record (a flatMap
 * emits while its record is open), yet each call is a child of the record span of the operator that made it.
 */
@ExtendWith(VertxExtension.class)
class ChainedTracingTest {

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private OpenTelemetrySdk sdk;
  private LocalEnvironment env;

  @BeforeEach
  void setUp(Vertx vertx) {
    sdk = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
      .build();
    env = LocalEnvironment.create(vertx, "chaintraced",
      new EnvironmentOptions().setTracingEnabled(true).setOpenTelemetry(sdk));
  }

  @AfterEach
  void tearDown() {
    env.close().await();
    sdk.close();
  }

  @Test
  void eachCallIsAChildOfTheRecordOfTheOperatorThatMadeIt() {
    env.registerService("echo", EchoService.class);
    env.fromBatch(List.of("r1"))
      .flatMap(new FlatMapFunction<String, String>() {
        @Override
        public void execute(String v, Collector<String> out) {
          callService("echo", "split-before");
          out.collect(v + "-a"); // the chained "score" runs its record here, inside this one
          callService("echo", "split-after");
        }
      }).name("split")
      .map(new MapFunction<String, String>() {
        @Override
        public String execute(String v) {
          return callService("echo", "score-" + v);
        }
      }).name("score")
      .sink(v -> { });
    assertThat(env.submit(new JobOptions().setChaining(true)).await().completion().await().status())
      .isEqualTo(JobStatus.COMPLETED);

    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.getFinishedSpanItems().stream()
      .anyMatch(s -> s.getName().startsWith("job ")));
    List<SpanData> spans = exporter.getFinishedSpanItems();
    Map<String, SpanData> byId = spans.stream().collect(Collectors.toMap(SpanData::getSpanId, Function.identity()));
    SpanData split = spans.stream().filter(s -> s.getName().equals("split")).findFirst().orElseThrow();
    SpanData score = spans.stream().filter(s -> s.getName().equals("score")).findFirst().orElseThrow();
    List<SpanData> calls = spans.stream().filter(s -> s.getName().equals("call echo.process")).toList();
    assertThat(calls).hasSize(3);
    assertThat(calls).allSatisfy(c -> assertThat(byId.get(c.getParentSpanId())).isIn(split, score));
    assertThat(calls.stream().filter(c -> c.getParentSpanId().equals(split.getSpanId()))).hasSize(2);
    assertThat(calls.stream().filter(c -> c.getParentSpanId().equals(score.getSpanId()))).hasSize(1);
    assertThat(score.getTraceId()).isNotEqualTo(split.getTraceId()); // each record's span is the root of its own trace
  }
}
