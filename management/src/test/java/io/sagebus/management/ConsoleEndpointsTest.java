package io.sagebus.management;

import io.sagebus.EnvironmentOptions;
import io.sagebus.Job;
import io.sagebus.JobOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.testing.EchoService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static io.sagebus.management.Http.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the console needs of the server, over plain HTTP: its files at {@code /} and {@code /console/}
 * with safe headers and without the token (they hold no data), the API still behind the token, a
 * job's graph with queue fill and where backpressure sits, and services with replicas and
 * execution-time percentiles.
 */
@ExtendWith(VertxExtension.class)
class ConsoleEndpointsTest {

  private static final String TOKEN = "console-endpoints-test-token-0123";

  private LocalEnvironment env;
  private ManagementServer server;
  private Http http;
  private final CountDownLatch release = new CountDownLatch(1);
  private final HttpClient raw = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "console", new EnvironmentOptions());
    env.registerService("echo", EchoService.class);
    env.registerPipeline("held", e -> {
      var held = e.fromBatch(IntStream.range(0, 100).boxed().toList()).map(x -> {
        awaitRelease();
        return x;
      }).name("held");
      held.sink(x -> { }).name("out");
      held.failures().sink(f -> { }).name("failed");
    });
    server = ManagementServer.builder(env).options(new ManagementOptions().setPort(0).setToken(TOKEN)).build();
    server.start().await();
    http = new Http(server.actualPort(), TOKEN);
  }

  @AfterEach
  void tearDown() {
    release.countDown();
    raw.close();
    http.close();
    server.close().await();
    env.close().await();
  }

  private void awaitRelease() {
    try {
      if (!release.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("never released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path))
      .timeout(Duration.ofSeconds(30));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return raw.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertSafeHeaders(HttpResponse<String> r) {
    assertThat(r.headers().firstValue("Content-Security-Policy")).get().asString()
      .contains("default-src 'self'").contains("script-src 'self'").doesNotContain("unsafe-inline")
      .contains("frame-ancestors 'none'");
    assertThat(r.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
    assertThat(r.headers().firstValue("X-Frame-Options")).contains("DENY");
  }

  @Test
  void theConsolesFilesAreServedWithoutTheTokenAndWithSafeHeaders() throws Exception {
    HttpResponse<String> page = get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).get().asString().startsWith("text/html");
    assertThat(page.headers().firstValue("Cache-Control")).contains("no-store");
    assertSafeHeaders(page);
    assertThat(page.body()).contains("<script type=\"module\" src=\"/console/app.js\"></script>")
      .doesNotContain(TOKEN);

    HttpResponse<String> script = get("/console/app.js");
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.headers().firstValue("Content-Type")).get().asString().contains("javascript");
    assertThat(script.headers().firstValue("Cache-Control")).contains("no-cache");
    assertSafeHeaders(script);

    HttpResponse<String> uplot = get("/console/vendor/uplot/dist/uPlot.esm.js");
    assertThat(uplot.statusCode()).isEqualTo(200);
    assertThat(uplot.body()).contains("export { uPlot as default }");
    assertThat(get("/console/vendor/uplot/dist/uPlot.min.css").headers().firstValue("Content-Type")).get().asString()
      .startsWith("text/css");

    // Nothing else of the class path, and the API itself still asks for the token.
    for (String path : List.of("/console/../impl/ConsoleRoutes.class", "/console/%2e%2e/console.properties",
      "/console/missing.js", "/console/vendor/uplot/../../../../../io/sagebus/management/console.properties")) {
      assertThat(get(path).statusCode()).as(path).isIn(400, 401, 404);
    }
    assertThat(get("/jobs").statusCode()).isEqualTo(401);
    assertThat(get("/jobs", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
    // The Host and Origin checks cover the console too (ManagementGuardTest checks Host with every endpoint).
    HttpResponse<String> framed = get("/", "Origin", "http://evil.example");
    assertThat(framed.statusCode()).isEqualTo(403);
    assertThat(json(framed).getString("error")).isEqualTo("ORIGIN_NOT_ALLOWED");
  }

  @Test
  void aJobsGraphShowsItsOperatorsEdgesQueuesAndWhereRecordsWait() {
    Job job = env.runPipeline("held", new JobOptions().setQueueCapacity(8)).await();
    // The held operator keeps one record; eight more fill its queue.
    await().atMost(Duration.ofSeconds(60)).until(() ->
      json(http.get("/jobs/" + job.id() + "/graph")).getJsonArray("operators").getJsonObject(1).getLong("queued") == 8);
    HttpResponse<String> r = http.get("/jobs/" + job.id() + "/graph");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject graph = json(r);
    assertThat(graph.getString("id")).isEqualTo(job.id());
    assertThat(graph.getString("status")).isEqualTo("RUNNING");
    JsonArray ops = graph.getJsonArray("operators");
    assertThat(ops).hasSize(4);
    JsonObject held = ops.getJsonObject(1);
    assertThat(held.getString("name")).isEqualTo("held");
    assertThat(held.getString("kind")).isEqualTo("map");
    assertThat(held.getInteger("index")).isEqualTo(1);
    assertThat(held.getLong("queueCapacity")).isEqualTo(8);
    assertThat(held.getDouble("queueFill")).isEqualTo(1.0);
    assertThat(held.containsKey("ratePerSecond")).isTrue();
    assertThat(ops.getJsonObject(0).getLong("queueCapacity")).isZero();
    assertThat(graph.getJsonArray("edges")).containsExactly(
      new JsonObject().put("from", 0).put("to", 1).put("side", false),
      new JsonObject().put("from", 1).put("to", 2).put("side", false),
      new JsonObject().put("from", 1).put("to", 3).put("side", true));
    assertThat(graph.getInteger("bottleneck")).isEqualTo(1);

    // The same operators in the job's own JSON.
    JsonObject progress = json(http.get("/jobs/" + job.id()));
    assertThat(progress.getJsonArray("operators").getJsonObject(2).getJsonArray("inputs")).containsExactly(1);
    assertThat(progress.getJsonArray("operators").getJsonObject(3).getJsonArray("sideInputs")).containsExactly(1);

    release.countDown();
    job.completion().await();
    JsonObject done = json(http.get("/jobs/" + job.id() + "/graph"));
    assertThat(done.getString("status")).isEqualTo("COMPLETED");
    assertThat(done.getValue("bottleneck")).isNull();
    assertThat(done.getJsonArray("operators").getJsonObject(2).getLong("recordsIn")).isEqualTo(100);

    assertThat(json(http.get("/jobs/console-job-999/graph")).getString("error")).isEqualTo("JOB_NOT_FOUND");
    assertThat(http.get("/jobs/console-job-999/graph").statusCode()).isEqualTo(404);
    assertThat(http.get("/jobs/bad%20id/graph").statusCode()).isEqualTo(400);
  }

  @Test
  void servicesCarryTheirReplicasAndExecutionTimePercentiles() {
    env.deploy("echo").await();
    for (int i = 0; i < 20; i++) {
      assertThat(http.post("/services/echo/call", new JsonObject().put("method", "add").put("args", new JsonArray()
        .add(i).add(1))).statusCode()).isEqualTo(200);
    }
    JsonObject echo = json(http.get("/services")).getJsonArray("services").getJsonObject(0);
    assertThat(echo.getString("name")).isEqualTo("echo");
    assertThat(echo.getJsonArray("replicas")).hasSize(1);
    assertThat(echo.getJsonArray("replicas").getJsonObject(0).getString("node")).startsWith("console@");
    assertThat(echo.getLong("p50ExecutionMicros")).isNotNull();
    assertThat(echo.getLong("p99ExecutionMicros")).isGreaterThanOrEqualTo(echo.getLong("p50ExecutionMicros"));
    long counted = echo.getJsonArray("executionTimes").stream().mapToLong(o -> ((JsonArray) o).getLong(1)).sum();
    assertThat(counted).isEqualTo(20);
    assertThat(json(http.get("/services/echo")).getJsonArray("executionTimes")).isEqualTo(echo.getJsonArray("executionTimes"));
  }
}
