package io.sagebus.cluster;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.sagebus.EnvironmentOptions;
import io.sagebus.Job;
import io.sagebus.JobStatus;
import io.sagebus.ServiceOptions;
import io.sagebus.impl.trace.Tracing;
import io.sagebus.testing.EchoService;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One record's trace across two cluster JVMs: this JVM runs the job (its spans go to the SDK's
 * in-memory exporter), a node JVM started from the node jar with {@code "tracing": true} serves
 * {@code relay}, which calls {@code echo} there. The node's SDK is configured by the standard
 * {@code OTEL_*} variables and exports OTLP/HTTP to a receiver on 127.0.0.1 in this JVM. Each JVM's
 * spans are written to its own file under the test's folder, printed with the node's output when
 * the test fails.
 */
class TracingIT {

  private static final Logger LOG = LoggerFactory.getLogger(TracingIT.class);
  /** This class's own port range: 16021 to 16040. */
  private static final int FIRST_PORT = 16021;
  private static final String ENV = "traced";
  private static final String NODE = "trace-1";

  @TempDir
  Path dir;

  /** A span as one of the JVMs exported it. */
  record Exported(String jvm, String traceId, String spanId, String parentSpanId, String name, String kind,
                  Map<String, Object> attributes) {
    JsonObject toJson() {
      return new JsonObject().put("jvm", jvm).put("traceId", traceId).put("spanId", spanId)
        .put("parentSpanId", parentSpanId).put("name", name).put("kind", kind).put("attributes", attributes);
    }
  }

  private final List<Exported> received = new CopyOnWriteArrayList<>();

  @Test
  void oneRecordsTraceCrossesFromTheJobsJvmToANodeAndItsNestedCall() throws Exception {
    ClusterOptions options = ClusterTesting.options(TracingIT.class, FIRST_PORT);
    Path testClasses = Path.of(RelayService.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
      .build();
    HttpServer receiver = otlpReceiver();
    ClusterEnvironment env = null;
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      try {
        nodes.startNode(NODE, new JsonObject()
            .put("cluster", options.toJson())
            .put("environment", ENV)
            .put("nodeId", NODE)
            .put("tracing", true)
            .put("services", new JsonObject()
              .put("relay", new JsonObject().put("class", RelayService.class.getName()))
              .put("echo", new JsonObject().put("class", EchoService.class.getName()))),
          List.of(testClasses), Map.of(
            "OTEL_SERVICE_NAME", NODE,
            "OTEL_TRACES_EXPORTER", "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + receiver.getAddress().getPort(),
            "OTEL_BSP_SCHEDULE_DELAY", "100"));
        nodes.awaitReady(NODE, options.getClusterName(), ENV);

        env = ClusterEnvironment.create(new ClusterOptions(options).setLiteMember(true), ENV,
          new EnvironmentOptions().setTracingEnabled(true).setOpenTelemetry(sdk)).await();
        ClusterEnvironment e = env;
        await("the node, seen from this JVM").atMost(Duration.ofSeconds(60)).until(() -> e.nodes().await().size() == 1);
        env.registerService("relay", RelayService.class, new ServiceOptions().setInstances(1));
        env.registerService("echo", EchoService.class, new ServiceOptions().setInstances(1));
        env.start().await(); // places both on the node, the only one with them in its catalogue
        // Until both replicas answer on the node: then the job's call goes straight there, in one attempt.
        await("relay and echo answer").atMost(Duration.ofSeconds(120)).until(() -> {
          try {
            return "relay(ready)".equals(e.services().callAsync("relay",
              io.sagebus.CallOptions.create().timeout(Duration.ofSeconds(5)), "ready").await());
          } catch (RuntimeException notYet) {
            LOG.info("relay does not answer yet: {}", notYet.toString());
            return false;
          }
        });

        List<String> out = new CopyOnWriteArrayList<>();
        env.fromBatch(List.of("r1"))
          .map(v -> (String) e.services().call("relay", v)).name("enrich")
          .sink(out::add);
        Job job = env.submit().await();
        assertThat(job.completion().await().status()).isEqualTo(JobStatus.COMPLETED);
        assertThat(out).containsExactly("relay(r1)");

        await("the job's span").atMost(Duration.ofSeconds(60))
          .until(() -> exporter.getFinishedSpanItems().stream().anyMatch(s -> s.getName().equals("job " + job.id())));
        List<Exported> local = exporter.getFinishedSpanItems().stream().map(TracingIT::exported).toList();
        write("test-jvm", local);
        Exported operator = one(local, s -> s.name().equals("enrich"));
        String trace = operator.traceId();
        Exported call = one(local, s -> s.name().equals("call relay.process") && s.parentSpanId().equals(operator.spanId()));
        Exported attempt = one(local, s -> s.kind().equals("CLIENT") && s.parentSpanId().equals(call.spanId()));

        // The node exports in batches: wait for its innermost span of this trace.
        await("the node's spans of the record's trace").atMost(Duration.ofSeconds(60))
          .until(() -> received.stream().anyMatch(s -> s.traceId().equals(trace) && s.name().equals("echo.process")
            && s.kind().equals("SERVER")));
        List<Exported> remote = received.stream().filter(s -> s.traceId().equals(trace)).toList();
        Exported server = one(remote, s -> s.kind().equals("SERVER") && s.name().equals("relay.process"));
        assertThat(server.jvm()).isEqualTo(NODE);
        assertThat(server.parentSpanId()).as("the node's server span is a child of this JVM's attempt")
          .isEqualTo(attempt.spanId());
        assertThat(server.attributes()).containsEntry(Tracing.REQUEST_ID.getKey(),
          call.attributes().get(Tracing.REQUEST_ID.getKey()));
        assertThat(server.attributes()).containsEntry(Tracing.ATTEMPT.getKey(), 1L)
          .containsEntry(Tracing.OUTCOME.getKey(), "OK")
          .containsKey(Tracing.QUEUE_WAIT.getKey()).containsKey(Tracing.EXECUTION_TIME.getKey());
        Exported nested = one(remote, s -> s.name().equals("call echo.process") && s.parentSpanId().equals(server.spanId()));
        assertThat(nested.attributes()).containsEntry(Tracing.CALLER.getKey(), "relay");
        Exported nestedAttempt = one(remote, s -> s.kind().equals("CLIENT") && s.parentSpanId().equals(nested.spanId()));
        Exported echo = one(remote, s -> s.kind().equals("SERVER") && s.parentSpanId().equals(nestedAttempt.spanId()));
        assertThat(echo.name()).isEqualTo("echo.process");
        assertThat(echo.attributes()).containsEntry(Tracing.OUTCOME.getKey(), "OK");
        LOG.info("one record's trace across two JVMs:\n{}", render(local, remote, trace));
      } catch (AssertionError | RuntimeException failure) {
        nodes.dump();
        for (Path file : List.of(dir.resolve("test-jvm-spans.jsonl"), dir.resolve(NODE + "-spans.jsonl"))) {
          LOG.error("--- {} ---\n{}", file.getFileName(), Files.exists(file) ? Files.readString(file) : "(none)");
        }
        throw failure;
      } finally {
        if (env != null) {
          env.close().await();
        }
      }
    } finally {
      receiver.stop(0);
      sdk.close();
    }
  }

  /** An OTLP/HTTP (protobuf) receiver on 127.0.0.1: what the node exports lands in {@link #received} and its file. */
  private HttpServer otlpReceiver() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/traces", exchange -> {
      try (InputStream in = exchange.getRequestBody()) {
        ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(in);
        for (ResourceSpans rs : request.getResourceSpansList()) {
          String jvm = String.valueOf(value(rs.getResource().getAttributesList(), "service.name"));
          List<Exported> spans = new java.util.ArrayList<>();
          for (ScopeSpans ss : rs.getScopeSpansList()) {
            for (io.opentelemetry.proto.trace.v1.Span s : ss.getSpansList()) {
              Map<String, Object> attributes = new LinkedHashMap<>();
              s.getAttributesList().forEach(kv -> attributes.put(kv.getKey(), value(kv.getValue())));
              spans.add(new Exported(jvm, hex(s.getTraceId()), hex(s.getSpanId()), hex(s.getParentSpanId()),
                s.getName(), s.getKind().name().replace("SPAN_KIND_", ""), attributes));
            }
          }
          received.addAll(spans);
          write(jvm, spans);
        }
        byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
        exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, answer.length);
        try (OutputStream o = exchange.getResponseBody()) {
          o.write(answer);
        }
      } catch (IOException | RuntimeException e) {
        LOG.error("the OTLP receiver could not read a request", e);
        exchange.sendResponseHeaders(400, -1);
      } finally {
        exchange.close();
      }
    });
    server.start();
    return server;
  }

  private synchronized void write(String jvm, List<Exported> spans) {
    StringBuilder lines = new StringBuilder();
    spans.forEach(s -> lines.append(s.toJson().encode()).append('\n'));
    try {
      Files.writeString(dir.resolve(jvm + "-spans.jsonl"), lines, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      LOG.error("cannot write the spans of {}", jvm, e);
    }
  }

  private static Exported exported(SpanData s) {
    Map<String, Object> attributes = new LinkedHashMap<>();
    s.getAttributes().forEach((k, v) -> attributes.put(k.getKey(), v));
    String parent = s.getParentSpanContext().isValid() ? s.getParentSpanId() : "";
    return new Exported("test-jvm", s.getTraceId(), s.getSpanId(), parent, s.getName(),
      s.getKind() == null ? SpanKind.INTERNAL.name() : s.getKind().name(), attributes);
  }

  private static Object value(List<KeyValue> attributes, String key) {
    return attributes.stream().filter(kv -> kv.getKey().equals(key)).findFirst().map(kv -> value(kv.getValue()))
      .orElse(null);
  }

  private static Object value(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case INT_VALUE -> v.getIntValue();
      case BOOL_VALUE -> v.getBoolValue();
      case DOUBLE_VALUE -> v.getDoubleValue();
      default -> v.toString();
    };
  }

  private static String hex(com.google.protobuf.ByteString bytes) {
    return bytes.isEmpty() ? "" : HexFormat.of().formatHex(bytes.toByteArray());
  }

  private static Exported one(List<Exported> spans, Predicate<Exported> p) {
    List<Exported> found = spans.stream().filter(p).toList();
    assertThat(found).as("matching spans among %s", spans).hasSize(1);
    return found.get(0);
  }

  /** The record's trace as a tree, each span with the JVM that made it. */
  private static String render(List<Exported> local, List<Exported> remote, String trace) {
    List<Exported> all = new java.util.ArrayList<>(local.stream().filter(s -> s.traceId().equals(trace)).toList());
    all.addAll(remote);
    StringBuilder sb = new StringBuilder();
    all.stream().filter(s -> s.parentSpanId().isEmpty()).forEach(root -> render(sb, root, all, 0));
    return sb.toString();
  }

  private static void render(StringBuilder sb, Exported s, List<Exported> all, int depth) {
    sb.append("  ".repeat(depth)).append(s.name()).append(" [").append(s.kind()).append(", ").append(s.jvm())
      .append("]\n");
    all.stream().filter(c -> c.parentSpanId().equals(s.spanId())).forEach(c -> render(sb, c, all, depth + 1));
  }
}
