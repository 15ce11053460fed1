package io.sagebus.management.cli;

import io.sagebus.EnvironmentOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.management.ManagementOptions;
import io.sagebus.management.ManagementServer;
import io.sagebus.management.NodeDirectory;
import io.sagebus.management.NodeInfo;
import io.sagebus.management.ReplicaInfo;
import io.sagebus.testing.EchoService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class SagebusCliTest {

  private static final String TOKEN = "cli-test-token-0123456789abcdef";

  private LocalEnvironment env;
  private ManagementServer server;
  private String url;
  private final AtomicLong sum = new AtomicLong();

  /** What one run of the CLI printed, and how it exited. */
  record Run(int exitCode, String out, String err) {
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "clienv", new EnvironmentOptions());
    env.registerService("echo", EchoService.class);
    env.registerPipeline("sum", e -> e.fromBatch(IntStream.rangeClosed(1, 2000).boxed().toList())
      .map(x -> e.services().<Integer>call("echo", x))
      .sink(x -> sum.addAndGet(x)));
    env.registerPipeline("broken", e -> e.fromBatch(List.of(1, 2, 3)).map(x -> {
      if (x == 2) {
        throw new IllegalStateException("record two is broken");
      }
      return x;
    }).sink(x -> { }));
    server = ManagementServer.create(env, new ManagementOptions().setPort(0).setToken(TOKEN));
    server.start().await();
    url = "http://127.0.0.1:" + server.actualPort();
  }

  @AfterEach
  void tearDown() {
    server.close().await();
    env.close().await();
  }

  private static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = SagebusCli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private Run api(String... command) {
    String[] args = new String[command.length + 4];
    System.arraycopy(command, 0, args, 0, command.length);
    args[command.length] = "--url";
    args[command.length + 1] = url;
    args[command.length + 2] = "--token";
    args[command.length + 3] = TOKEN;
    return cli(args);
  }

  @Test
  void statusPrintsHealthNodesServicesJobsAndPipelines() {
    env.deploy("echo").await();
    env.runPipeline("broken").await().completion().otherwiseEmpty().await();
    Run run = api("status");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
      .containsPattern("health\\s+UP")
      .containsPattern("jobs\\s+1 \\(1 failed\\)").containsPattern("nodes\\s+1: clienv@" + ProcessHandle.current().pid() + " \\(this node\\)")
      .containsPattern("services\\s+1 registered, 1 running \\(1 instances\\)")
      .containsPattern("pipelines\\s+2: broken, sum");
  }

  @Test
  void jobsPrintsATableOfJobs() {
    assertThat(api("jobs").out()).contains("No jobs.");
    env.runPipeline("sum").await().completion().await();
    Run run = api("jobs");
    assertThat(run.exitCode()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines.get(0)).containsPattern("ID\\s+STATUS\\s+SOURCE\\s+TOTAL\\s+SINKS\\s+FAILED\\s+IN-FLIGHT\\s+ELAPSED");
    assertThat(lines.get(1)).containsPattern("clienv-job-1\\s+COMPLETED\\s+2000\\s+2000\\s+2000\\s+0\\s+0\\s+");
  }

  @Test
  void servicesPrintsATableOfServices() {
    env.deploy("echo").await();
    env.services().call("echo", "x");
    Run run = api("services");
    assertThat(run.exitCode()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines.get(0)).containsPattern("NAME\\s+INSTANCES\\s+REQUESTS\\s+SUCCEEDED\\s+ERRORS");
    assertThat(lines.get(1)).containsPattern("echo\\s+1\\s+1\\s+1\\s+0\\s+0\\s+0\\s+0\\s+");
  }

  @Test
  void nodesPrintsThisJvm() {
    Run run = api("nodes");
    assertThat(run.exitCode()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines.get(0)).containsPattern("ID\\s+HOST\\s+SELF\\s+PID\\s+JAVA");
    assertThat(lines.get(1)).startsWith("clienv@" + ProcessHandle.current().pid())
      .containsPattern("\\s+yes\\s+" + ProcessHandle.current().pid() + "\\s+");
  }

  @Test
  void runStartsANamedPipelineShowsProgressAndExitsZeroWhenItCompletes() {
    Run run = api("run", "sum", "--interval-ms", "20");
    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out())
      .contains("Started pipeline 'sum' as job clienv-job-1")
      .containsPattern("/2000 records \\(\\d+%\\)\\s+[0-9.]+/s")
      .containsPattern("Job clienv-job-1 COMPLETED: 2000 records in .* 2000 reached the sinks, 0 failed");
    assertThat(sum.get()).isEqualTo(2000L * 2001 / 2);
  }

  @Test
  void runExitsNonZeroWhenThePipelineFails() {
    Run run = api("run", "broken", "--interval-ms", "20");
    assertThat(run.exitCode()).isEqualTo(SagebusCli.EXIT_FAILED);
    assertThat(run.out()).contains("FAILED").contains("record two is broken");
  }

  @Test
  void anUnknownPipelineAWrongTokenAndNoServerAreReportedClearly() {
    Run unknown = api("run", "nope");
    assertThat(unknown.exitCode()).isEqualTo(SagebusCli.EXIT_FAILED);
    assertThat(unknown.err()).contains("404 PIPELINE_NOT_FOUND").contains("nope");

    Run wrongToken = cli("jobs", "--url", url, "--token", "not-the-token-at-all");
    assertThat(wrongToken.exitCode()).isEqualTo(SagebusCli.EXIT_FAILED);
    assertThat(wrongToken.err()).isEqualTo("sagebus: the API at " + url + " refused the token (401 UNAUTHORIZED): check"
      + " --token, or the environment variable SAGEBUS_TOKEN, against the node's \"management\" token"
      + System.lineSeparator());

    for (String command : List.of("status", "jobs", "pipelines")) {
      Run noToken = cli(command, "--url", url, "--token", "");
      assertThat(noToken.exitCode()).isEqualTo(SagebusCli.EXIT_FAILED);
      // What to give the CLI, not which HTTP header the API wants.
      assertThat(noToken.err()).isEqualTo("sagebus: the API at " + url + " needs a token (401 UNAUTHORIZED): give it"
        + " with --token TOKEN, or set the environment variable SAGEBUS_TOKEN" + System.lineSeparator());
    }

    int freePort;
    try (ServerSocket s = new ServerSocket(0)) {
      freePort = s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Run unreachable = cli("nodes", "--url", "http://127.0.0.1:" + freePort);
    assertThat(unreachable.exitCode()).isEqualTo(SagebusCli.EXIT_UNREACHABLE);
    assertThat(unreachable.err()).contains("Cannot reach");

    Run usage = cli();
    assertThat(usage.exitCode()).isEqualTo(2);
    assertThat(usage.err()).contains("Missing command");
  }

  @Test
  void pipelinesListsTheNamedPipelines() {
    Run run = api("pipelines");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out().lines().toList()).containsExactlyInAnyOrder("sum", "broken");
  }

  @Test
  void callPrintsTheResultAsJson() {
    env.deploy("echo").await();
    Run add = api("call", "echo", "--method", "add", "2", "3");
    assertThat(add.exitCode()).as(add.err()).isZero();
    assertThat(add.out()).isEqualTo("5" + System.lineSeparator());
    Run echo = api("call", "echo", "{\"a\": [1, \"b\"]}");
    assertThat(echo.out()).isEqualTo("{\"a\":[1,\"b\"]}" + System.lineSeparator());
    Run text = api("call", "echo", "-m", "repeat", "\"ab\"", "2");
    assertThat(text.out()).isEqualTo("\"abab\"" + System.lineSeparator());
  }

  @Test
  void callShowsTheTypedErrorWithItsCode() {
    env.deploy("echo").await();
    Run badArgs = api("call", "echo", "--method", "add", "1");
    assertThat(badArgs.exitCode()).isEqualTo(SagebusCli.EXIT_FAILED);
    assertThat(badArgs.err()).startsWith("sagebus: echo.add failed: BAD_ARGUMENTS (HTTP 400): ");
    Run unknownMethod = api("call", "echo", "--method", "nope");
    assertThat(unknownMethod.err()).startsWith("sagebus: echo.nope failed: UNKNOWN_METHOD (HTTP 404): ");
    Run unknownService = api("call", "inventory", "1");
    assertThat(unknownService.err()).startsWith("sagebus: inventory.process failed: SERVICE_NOT_FOUND (HTTP 404): ")
      .contains("inventory");
    // A call the service cannot answer in time ends in the API's typed TIMEOUT, not in the CLI giving up.
    env.registerService("slow", io.sagebus.testing.SlowService.class);
    Run late = api("call", "slow", "10000", "--timeout-ms", "2500");
    assertThat(late.exitCode()).as(late.err()).isEqualTo(SagebusCli.EXIT_FAILED);
    assertThat(late.err()).startsWith("sagebus: slow.process failed: TIMEOUT (HTTP 504): ");

    Run notJson = api("call", "echo", "hello");
    assertThat(notJson.exitCode()).isEqualTo(2);
    assertThat(notJson.err()).contains("Argument 1 (hello) is not a JSON value: write strings in double quotes,"
      + " such as '\"hello\"'");
    assertThat(notJson.out()).isEmpty();
  }

  @Test
  void cancelStopsARunningJob() {
    env.registerPipeline("long", e -> e.fromBatch(IntStream.range(0, 2_000_000).boxed().toList())
      .map(x -> e.services().<Integer>call("echo", x))
      .sink(x -> { }));
    io.sagebus.Job job = env.runPipeline("long").await();
    Run run = api("cancel", job.id());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).startsWith("Job " + job.id() + " CANCELLED: ");
    assertThat(job.progress().toJson().getString("status")).isEqualTo("CANCELLED");

    Run again = api("cancel", job.id());
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.out()).startsWith("Job " + job.id() + " had already ended: Job " + job.id() + " CANCELLED: ");

    Run unknown = api("cancel", "clienv-job-99");
    assertThat(unknown.exitCode()).isEqualTo(SagebusCli.EXIT_FAILED);
    assertThat(unknown.err()).contains("404 JOB_NOT_FOUND");
  }

  @Test
  void everyPostCarriesAJsonBodyAndContentType(Vertx vertx) {
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    io.vertx.core.http.HttpServer fake = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      seen.add(req.method() + " " + req.path() + " " + req.getHeader("Content-Type") + " " + body);
      String answer = req.path().endsWith("/call") ? "{\"result\": 1}"
        : "{\"id\": \"j-1\", \"status\": \"RUNNING\"}";
      if (req.path().endsWith("/cancel")) {
        answer = "{\"id\": \"j-1\", \"status\": \"CANCELLED\", \"endedAt\": \"now\"}";
      }
      req.response().putHeader("Content-Type", "application/json").end(answer);
    })).listen(0, "127.0.0.1").await();
    try {
      String fakeUrl = "http://127.0.0.1:" + fake.actualPort();
      assertThat(cli("call", "x", "1", "--url", fakeUrl).exitCode()).isZero();
      assertThat(cli("cancel", "j-1", "--url", fakeUrl).exitCode()).isZero();
      assertThat(cli("run", "p", "--detach", "--url", fakeUrl).exitCode()).isZero();
      assertThat(seen.stream().filter(r -> r.startsWith("POST")).toList()).containsExactly(
        "POST /services/x/call application/json {\"method\":\"process\",\"args\":[1],\"timeoutMs\":9000}",
        "POST /jobs/j-1/cancel application/json {}",
        "POST /pipelines/p/run application/json {}");
    } finally {
      fake.close().await();
    }
  }

  @Test
  void servicesOfAnotherJvmShowWithoutStatistics() {
    // A directory such as a cluster node's: one service registered by another JVM, its replica on node n2.
    NodeDirectory local = NodeDirectory.local(env);
    NodeDirectory cluster = new NodeDirectory() {
      @Override
      public Future<List<NodeInfo>> nodes() {
        return local.nodes();
      }

      @Override
      public Future<List<ReplicaInfo>> replicas(String service) {
        return service.equals("remote")
          ? Future.succeededFuture(List.of(new ReplicaInfo("remote", 0, "n2")))
          : local.replicas(service);
      }

      @Override
      public Future<List<JsonObject>> registrations() {
        return Future.succeededFuture(List.of(
          new JsonObject().put("name", "echo").put("type", "x").put("member", "m0").put("local", false),
          new JsonObject().put("name", "remote").put("type", "com.example.Remote").put("member", "m2")
            .put("local", false)));
      }
    };
    ManagementServer node = ManagementServer.builder(env).options(new ManagementOptions().setPort(0).setToken(TOKEN))
      .nodes(cluster).build();
    node.start().await();
    try {
      Run services = cli("services", "--url", "http://127.0.0.1:" + node.actualPort(), "--token", TOKEN);
      assertThat(services.exitCode()).as(services.err()).isZero();
      // echo once (this environment's, with its statistics), then the other JVM's service without any.
      assertThat(services.out().lines().filter(l -> l.startsWith("echo ")).count()).isEqualTo(1);
      assertThat(services.out()).containsPattern("(?m)^remote +1 +- +- +- +- +- +- +- +-\\s*$");
    } finally {
      node.close().await();
    }
  }
}
