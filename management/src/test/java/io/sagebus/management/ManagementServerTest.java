package io.sagebus.management;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sagebus.EnvironmentOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.FailingService;
import io.sagebus.testing.LatchService;
import io.sagebus.testing.SlowService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static io.sagebus.management.Http.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class ManagementServerTest {

  private static final String TOKEN = "s3cret-token-for-tests-0123456789";

  private Vertx vertx;
  private LocalEnvironment env;
  private ManagementServer server;
  private Http http;
  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicInteger inside = new AtomicInteger();
  private final List<Integer> numbers = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    env = LocalEnvironment.create(vertx, "mgmt", new EnvironmentOptions());
    env.registerService("echo", EchoService.class);
    env.registerService("slow", SlowService.class);
    env.registerService("failing", FailingService.class);
    env.registerService("latch", () -> new LatchService(release, inside, new AtomicInteger()),
      new ServiceOptions().setMaxConcurrency(1).setMaxQueued(0).setDrainTimeout(Duration.ofSeconds(30)));
    env.registerPipeline("numbers", e -> e.fromBatch(IntStream.range(0, 100).boxed().toList()).sink(numbers::add));
    env.registerPipeline("stuck", e -> e.fromBatch(List.of(1, 2)).map(x -> {
      awaitRelease();
      return x;
    }).sink(x -> { }));
    server = ManagementServer.builder(env)
      .options(new ManagementOptions().setPort(0).setToken(TOKEN))
      .metrics(() -> "# TYPE sagebus_test_total counter\nsagebus_test_total 7.0\n")
      .build();
    server.start().await();
    http = new Http(server.actualPort(), TOKEN);
  }

  private void awaitRelease() {
    try {
      release.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @AfterEach
  void tearDown() {
    release.countDown();
    http.close();
    server.close().await();
    env.close().await();
  }

  private JsonObject call(String service, JsonObject body, int expectedStatus) {
    HttpResponse<String> r = http.post("/services/" + service + "/call", body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(expectedStatus);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
    return json(r);
  }

  @Test
  void aClientDisconnectingFromACallCancelsItAtTheService() throws Exception {
    String body = "{\"args\": [\"held\"], \"timeoutMs\": 60000}";
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.actualPort())) {
      socket.getOutputStream().write(("POST /services/latch/call HTTP/1.1\r\nHost: 127.0.0.1:" + server.actualPort()
        + "\r\nAuthorization: Bearer " + TOKEN + "\r\nContent-Type: application/json\r\nContent-Length: "
        + body.length() + "\r\n\r\n" + body).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      await("the call is inside the method").atMost(Duration.ofSeconds(20)).until(() -> inside.get() == 1);
    } // the client goes away without reading an answer
    // The latch was never released: only the cancel (interrupting the method) lets the call leave.
    await("the call was cancelled at the service").atMost(Duration.ofSeconds(20)).until(() -> inside.get() == 0);
    await().atMost(Duration.ofSeconds(20)).until(() -> env.services().stats("latch").await().inFlight() == 0);
    assertThat(env.services().stats("latch").await().errors(io.sagebus.FailureCode.CANCELLED)).isEqualTo(1);
  }

  @Test
  void itRefusesToListenBeyondLoopbackWithoutAToken() {
    ManagementServer open = ManagementServer.create(env, new ManagementOptions().setHost("0.0.0.0").setPort(0));
    assertThatThrownBy(() -> open.start().await())
      .isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("Refusing to serve the management API on 0.0.0.0 without a token");
    assertThat(open.actualPort()).isEqualTo(-1);
    open.close().await();
  }

  @Test
  void aRequestWithoutTheTokenOrWithAWrongOneIsRefusedWith401() {
    for (String path : List.of("/jobs", "/services", "/nodes", "/metrics", "/health", "/pipelines", "/nowhere")) {
      HttpResponse<String> missing = http.token(null).get(path);
      assertThat(missing.statusCode()).as(path).isEqualTo(401);
      assertThat(json(missing).getString("error")).isEqualTo("UNAUTHORIZED");
      assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
      HttpResponse<String> wrong = http.token(TOKEN + "x").get(path);
      assertThat(wrong.statusCode()).as(path).isEqualTo(401);
      assertThat(json(wrong).getString("message")).doesNotContain(TOKEN);
      HttpResponse<String> shorter = http.token(TOKEN.substring(1)).get(path);
      assertThat(shorter.statusCode()).as(path).isEqualTo(401);
    }
    // A refused call never reaches the service.
    HttpResponse<String> refused = http.token("wrong-token-wrong-token").post("/services/latch/call",
      new JsonObject().put("args", new JsonArray().add(1)));
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(inside.get()).isZero();
    assertThat(http.token(TOKEN).get("/jobs").statusCode()).isEqualTo(200);
  }

  @Test
  void theTokenAppearsNeitherInLogsNorInTheOptionsJson() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    root.addAppender(events);
    try {
      ManagementServer other = ManagementServer.create(env, new ManagementOptions().setPort(0).setToken(TOKEN));
      other.start().await();
      try (Http h = new Http(other.actualPort(), TOKEN)) {
        assertThat(h.get("/jobs").statusCode()).isEqualTo(200);
        assertThat(h.token("bad-" + TOKEN).get("/services").statusCode()).isEqualTo(401);
        assertThat(h.token(TOKEN).post("/pipelines/numbers/run", null).statusCode()).isEqualTo(202);
      }
      other.close().await();
    } finally {
      root.detachAppender(events);
    }
    assertThat(events.list).isNotEmpty();
    assertThat(events.list).extracting(ILoggingEvent::getFormattedMessage)
      .anyMatch(m -> m.contains("Management API") && m.contains("token is required"))
      .noneMatch(m -> m.contains(TOKEN));
    ManagementOptions options = new ManagementOptions().setToken(TOKEN);
    assertThat(options.toJson().encode()).doesNotContain(TOKEN).contains("\"tokenSet\":true");
    assertThat(options.toString()).doesNotContain(TOKEN);
  }

  @Test
  void optionsRoundTripThroughJsonAndValidate() {
    ManagementOptions o = new ManagementOptions().setHost("localhost").setPort(0);
    assertThat(new ManagementOptions(o.toJson())).isEqualTo(o);
    assertThat(new ManagementOptions(new JsonObject())).isEqualTo(new ManagementOptions());
    assertThat(new ManagementOptions().getHost()).isEqualTo("127.0.0.1");
    assertThat(new ManagementOptions().getPort()).isEqualTo(ManagementOptions.DEFAULT_PORT);
    ManagementOptions withToken = new ManagementOptions().setToken(TOKEN);
    assertThat(new ManagementOptions(withToken)).isEqualTo(withToken);
    assertThat(new ManagementOptions(new JsonObject().put("token", TOKEN)).getToken()).isEqualTo(TOKEN);
    // The JSON form carries no token: read back, it has none.
    assertThat(new ManagementOptions(withToken.toJson()).getToken()).isNull();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ManagementOptions().setPort(70000))
      .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ManagementOptions().setHost(" "))
      .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ManagementOptions().setToken("short"))
      .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("short");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ManagementOptions(new JsonObject().put("port", "x")))
      .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aNamedPipelineRunsOverHttpAndItsJobIsListedFoundAndFinished() {
    assertThat(json(http.get("/pipelines")).getJsonArray("pipelines")).containsExactly("numbers", "stuck");
    HttpResponse<String> started = http.post("/pipelines/numbers/run", null);
    assertThat(started.statusCode()).isEqualTo(202);
    String id = json(started).getString("id");
    assertThat(started.headers().firstValue("Location")).hasValue("/jobs/" + id);
    await().until(() -> "COMPLETED".equals(json(http.get("/jobs/" + id)).getString("status")));
    JsonObject job = json(http.get("/jobs/" + id));
    assertThat(job.getLong("sourceRecords")).isEqualTo(100);
    assertThat(job.getLong("sinkRecords")).isEqualTo(100);
    assertThat(job.getLong("total")).isEqualTo(100);
    assertThat(job.getString("endedAt")).isNotNull();
    assertThat(job.getJsonArray("operators")).hasSize(2);
    assertThat(numbers).hasSize(100);
    JsonArray jobs = json(http.get("/jobs")).getJsonArray("jobs");
    assertThat(jobs).extracting(o -> ((JsonObject) o).getString("id")).contains(id);

    HttpResponse<String> withOptions = http.post("/pipelines/numbers/run",
      new JsonObject().put("options", new JsonObject().put("maxRecordsInFlight", 5)));
    assertThat(withOptions.statusCode()).isEqualTo(202);
    HttpResponse<String> badOptions = http.post("/pipelines/numbers/run",
      new JsonObject().put("options", new JsonObject().put("maxRecordsInFlight", 0)));
    assertThat(badOptions.statusCode()).isEqualTo(400);
    assertThat(json(badOptions).getString("message")).contains("maxRecordsInFlight");
  }

  @Test
  void aRunningJobIsCancelledOverHttp() {
    String id = json(http.post("/pipelines/stuck/run", null)).getString("id");
    await().until(() -> json(http.get("/jobs/" + id)).getLong("sourceRecords") >= 1);
    assertThat(json(http.get("/jobs/" + id)).getString("status")).isEqualTo("RUNNING");
    HttpResponse<String> cancelled = http.post("/jobs/" + id + "/cancel", null);
    assertThat(cancelled.statusCode()).isEqualTo(200);
    assertThat(json(cancelled).getString("status")).isEqualTo("CANCELLED");
    assertThat(json(cancelled).getString("endedAt")).isNotNull();
    // Cancelling an ended job changes nothing.
    assertThat(json(http.post("/jobs/" + id + "/cancel", null)).getString("status")).isEqualTo("CANCELLED");
  }

  @Test
  void badJobIdsAndUnknownJobsGetClearErrors() {
    HttpResponse<String> unknown = http.get("/jobs/mgmt-job-999");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(json(unknown).getString("error")).isEqualTo("JOB_NOT_FOUND");
    HttpResponse<String> bad = http.get("/jobs/bad%20id");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).getString("error")).isEqualTo("BAD_ID");
    assertThat(http.post("/jobs/mgmt-job-999/cancel", null).statusCode()).isEqualTo(404);
    assertThat(http.post("/jobs/%2E%2E/cancel", null).statusCode()).isIn(400, 404);
  }

  @Test
  void servicesAreListedWithStatsAndReplicasOnTheirNode() {
    env.deploy("echo").await();
    env.services().call("echo", "hi");
    JsonArray services = json(http.get("/services")).getJsonArray("services");
    assertThat(services).extracting(o -> ((JsonObject) o).getString("name"))
      .containsExactly("echo", "failing", "latch", "slow");
    JsonObject echo = services.getJsonObject(0);
    assertThat(echo.getInteger("instances")).isEqualTo(1);
    assertThat(echo.getLong("requests")).isEqualTo(1);
    JsonObject one = json(http.get("/services/echo"));
    assertThat(one.getString("name")).isEqualTo("echo");
    assertThat(one.getLong("succeeded")).isEqualTo(1);
    String node = json(http.get("/nodes")).getJsonArray("nodes").getJsonObject(0).getString("id");
    assertThat(one.getJsonArray("replicas")).containsExactly(new JsonObject().put("index", 0).put("node", node));
    assertThat(json(http.get("/services/slow")).getJsonArray("replicas")).isEmpty();

    HttpResponse<String> unknown = http.get("/services/nope");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(json(unknown).getString("error")).isEqualTo("SERVICE_NOT_FOUND");
    HttpResponse<String> bad = http.get("/services/no%20pe");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).getString("error")).isEqualTo("BAD_NAME");
    assertThat(http.send("DELETE", "/services/nope", null).statusCode()).isEqualTo(404);
  }

  @Test
  void theLocalNodeIsThisJvm() {
    JsonArray nodes = json(http.get("/nodes")).getJsonArray("nodes");
    assertThat(nodes).hasSize(1);
    JsonObject node = nodes.getJsonObject(0);
    assertThat(node.getBoolean("self")).isTrue();
    assertThat(node.getString("id")).isEqualTo("mgmt@" + ProcessHandle.current().pid());
    assertThat(node.getJsonObject("details").getString("environment")).isEqualTo("mgmt");
    assertThat(node.getJsonObject("details").getLong("pid")).isEqualTo(ProcessHandle.current().pid());
  }

  @Test
  void aCallOverHttpAnswersTheResult() {
    env.deploy("echo").await();
    assertThat(call("echo", new JsonObject().put("args", new JsonArray().add("hello")), 200))
      .isEqualTo(new JsonObject().put("result", "hello"));
    assertThat(call("echo", new JsonObject().put("method", "add").put("args", new JsonArray().add(2).add(3)), 200)
      .getInteger("result")).isEqualTo(5);
    JsonObject marked = call("echo", new JsonObject().put("method", "mark")
      .put("args", new JsonArray().add(new JsonObject().put("a", 1))), 200).getJsonObject("result");
    assertThat(marked).isEqualTo(new JsonObject().put("a", 1).put("seen", true));
    assertThat(call("echo", new JsonObject().put("method", "async").put("args", new JsonArray().add(4)), 200)
      .getInteger("result")).isEqualTo(4);
  }

  @Test
  void callFailuresMapToTheirDocumentedStatus() {
    env.start().await();
    JsonObject unknown = call("nope", new JsonObject().put("args", new JsonArray()), 404);
    assertThat(unknown.getString("error")).isEqualTo("SERVICE_NOT_FOUND");
    assertThat(unknown.getString("service")).isEqualTo("nope");

    JsonObject badArgs = call("echo", new JsonObject().put("method", "add")
      .put("args", new JsonArray().add("x").add("y")), 400);
    assertThat(badArgs.getString("error")).isEqualTo("BAD_ARGUMENTS");
    assertThat(badArgs.getString("method")).isEqualTo("add");

    assertThat(call("echo", new JsonObject().put("method", "nosuch"), 404).getString("error")).isEqualTo("UNKNOWN_METHOD");

    JsonObject timeout = call("slow", new JsonObject().put("args", new JsonArray().add(2000)).put("timeoutMs", 100), 504);
    assertThat(timeout.getString("error")).isEqualTo("TIMEOUT");

    JsonObject failed = call("failing", new JsonObject().put("args", new JsonArray().add("u1")), 500);
    assertThat(failed.getString("error")).isEqualTo("SERVICE_ERROR");
    assertThat(failed.getString("remoteType")).contains("ProfileMissingException");

    assertThat(call("echo", new JsonObject().put("args", "not-an-array"), 400).getString("error")).isEqualTo("BAD_REQUEST");
    assertThat(call("echo", new JsonObject().put("timeoutMs", -1), 400).getString("message")).contains("timeoutMs");
    assertThat(call("echo", new JsonObject().put("method", 12), 400).getString("message")).contains("method");
    HttpResponse<String> notJson = http.send("POST", "/services/echo/call", "{not json");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(json(notJson).getString("error")).isEqualTo("BAD_REQUEST");
    assertThat(http.send("POST", "/services/echo/call", null).statusCode()).isEqualTo(400);
    HttpResponse<String> tooLarge = http.send("POST", "/services/echo/call",
      new JsonObject().put("args", new JsonArray().add("x".repeat(1_100_000))).encode());
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(json(tooLarge).getString("error")).isEqualTo("BODY_TOO_LARGE");
  }

  @Test
  void anOverloadedServiceAnswers503() {
    env.deploy("latch").await();
    CompletableFuture<HttpResponse<String>> first = http.sendAsync("POST", "/services/latch/call",
      new JsonObject().put("args", new JsonArray().add("a")).encode());
    await().until(() -> inside.get() == 1);
    JsonObject overloaded = call("latch", new JsonObject().put("args", new JsonArray().add("b")), 503);
    assertThat(overloaded.getString("error")).isEqualTo("OVERLOADED");
    release.countDown();
    assertThat(json(first.join()).getString("result")).isEqualTo("a");
  }

  @Test
  void undeployingOverHttpDrainsAnInFlightCall() {
    env.deploy("latch").await();
    CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync("POST", "/services/latch/call",
      new JsonObject().put("args", new JsonArray().add("kept")).encode());
    await().until(() -> inside.get() == 1);
    CompletableFuture<HttpResponse<String>> undeploy = http.sendAsync("DELETE", "/services/latch", null);
    // The undeploy has begun: the service no longer takes calls, while the one inside still runs.
    await().until(() -> env.openResources().stream().noneMatch(r -> r.contains("consumer") && r.contains("service.latch")));
    assertThat(undeploy).isNotDone();
    assertThat(inFlight).isNotDone();
    release.countDown();
    HttpResponse<String> answered = inFlight.join();
    assertThat(answered.statusCode()).as(answered.body()).isEqualTo(200);
    assertThat(json(answered).getString("result")).isEqualTo("kept");
    HttpResponse<String> undeployed = undeploy.join();
    assertThat(undeployed.statusCode()).isEqualTo(200);
    assertThat(json(undeployed)).isEqualTo(new JsonObject().put("service", "latch").put("undeployed", true));
    assertThat(json(http.get("/services/latch")).getInteger("instances")).isZero();
  }

  @Test
  void metricsAnswerThePrometheusTextOr404WithoutAScrape() {
    HttpResponse<String> metrics = http.get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    assertThat(metrics.body()).contains("sagebus_test_total 7.0");

    ManagementServer bare = ManagementServer.create(env, new ManagementOptions().setPort(0));
    bare.start().await();
    try (Http h = new Http(bare.actualPort(), null)) {
      HttpResponse<String> none = h.get("/metrics");
      assertThat(none.statusCode()).isEqualTo(404);
      assertThat(json(none).getString("error")).isEqualTo("METRICS_DISABLED");
    } finally {
      bare.close().await();
    }
  }

  @Test
  void healthUsesTheBuiltInCheckOrTheChecksItIsGiven() {
    for (String path : List.of("/health", "/health/live", "/health/ready")) {
      HttpResponse<String> r = http.get(path);
      assertThat(r.statusCode()).as(path).isEqualTo(200);
      assertThat(json(r).getString("status")).isEqualTo("UP");
      assertThat(r.body()).contains("environment");
    }
    HealthChecks ready = HealthChecks.create(vertx).register("breaker-echo", p -> p.complete(Status.KO()));
    HealthChecks all = HealthChecks.create(vertx).register("services", p -> p.complete(Status.OK()))
      .register("breaker-echo", p -> p.complete(Status.KO()));
    ManagementServer checked = ManagementServer.builder(env).options(new ManagementOptions().setPort(0))
      .health(all).readiness(ready).build();
    checked.start().await();
    try (Http h = new Http(checked.actualPort(), null)) {
      HttpResponse<String> notReady = h.get("/health/ready");
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(json(notReady).getString("status")).isEqualTo("DOWN");
      assertThat(notReady.body()).contains("breaker-echo");
      assertThat(h.get("/health/live").statusCode()).isEqualTo(200);
      assertThat(h.get("/health").statusCode()).isEqualTo(503);
      assertThat(h.get("/health/services").statusCode()).isEqualTo(200);
    } finally {
      checked.close().await();
    }
  }

  @Test
  void badPathsAndMethodsGetJsonErrors() {
    HttpResponse<String> nowhere = http.get("/nowhere");
    assertThat(nowhere.statusCode()).isEqualTo(404);
    assertThat(json(nowhere).getString("error")).isEqualTo("NOT_FOUND");
    HttpResponse<String> wrongMethod = http.send("PUT", "/jobs", "{}");
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(json(wrongMethod).getString("error")).isEqualTo("METHOD_NOT_ALLOWED");
    HttpResponse<String> missing = http.post("/pipelines/missing/run", null);
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(json(missing).getString("error")).isEqualTo("PIPELINE_NOT_FOUND");
    assertThat(http.post("/pipelines/bad%20name/run", null).statusCode()).isEqualTo(400);
  }

  @Test
  void aServerStartsOnceAndClosesCleanly() {
    assertThat(server.start().failed()).isTrue();
    int port = server.actualPort();
    assertThat(port).isPositive();
    server.close().await();
    assertThat(server.actualPort()).isEqualTo(-1);
    assertThat(server.start().failed()).isTrue();
  }
}
