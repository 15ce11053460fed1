package io.sagebus.cluster;

import io.sagebus.Job;
import io.sagebus.management.cli.SagebusCli;
import io.sagebus.testing.EchoService;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A node JVM from the built jar with a setup class (a service and a named pipeline) and its
 * management API on a free port; the {@code sagebus} CLI's commands and plain HTTP requests
 * against it, as an operator would use them.
 */
class NodeManagementIT {

  /** This class's own port range: 15861 to 15880. */
  private static final int FIRST_PORT = 15861;
  private static final String ENV = "ops";
  private static final String TOKEN = "node-management-it-token-0123456789";
  private static final Pattern API = Pattern.compile("management API on (http://127\\.0\\.0\\.1:\\d+)");

  @TempDir
  Path dir;

  /** What one run of the CLI printed, and how it exited. */
  record Run(int exitCode, String out, String err) {
  }

  private static Run cli(String url, String... command) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = SagebusCli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
    String[] args = new String[command.length + 4];
    System.arraycopy(command, 0, args, 0, command.length);
    args[command.length] = "--url";
    args[command.length + 1] = url;
    args[command.length + 2] = "--token";
    args[command.length + 3] = TOKEN;
    return new Run(cl.execute(args), out.toString(), err.toString());
  }

  @Test
  void theCliAndTheHttpApiWorkAgainstARunningNode() throws Exception {
    ClusterOptions options = ClusterTesting.options(NodeManagementIT.class, FIRST_PORT);
    Path testClasses = Path.of(DemoSetup.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      nodes.startNode("ops-1", new JsonObject()
        .put("cluster", options.toJson())
        .put("environment", ENV)
        .put("nodeId", "ops-1")
        .put("services", new JsonObject().put("echo", new JsonObject().put("class", EchoService.class.getName())))
        .put("setup", List.of(DemoSetup.class.getName()))
        .put("management", new JsonObject().put("port", 0).put("token", TOKEN)), List.of(testClasses));
      nodes.awaitReady("ops-1", options.getClusterName(), ENV);
      Matcher m = API.matcher(Files.readString(nodes.out("ops-1")));
      assertThat(m.find()).as("the ready line names the management API").isTrue();
      String url = m.group(1);

      Run nodesRun = cli(url, "nodes");
      assertThat(nodesRun.exitCode()).as(nodesRun.err()).isZero();
      assertThat(nodesRun.out()).contains("ops-1").contains("127.0.0.1")
        .contains(String.valueOf(nodes.process("ops-1").pid()))
        .containsPattern("ops-1 .* yes .* MiB +\\d+ MiB +0\\s*$"); // the answering node's own heap and running jobs

      Run run = cli(url, "run", "doubles", "--interval-ms", "100");
      assertThat(run.exitCode()).as("run: %s %s", run.out(), run.err()).isZero();
      assertThat(run.out()).contains("RUNNING").contains("COMPLETED: " + DemoSetup.RECORDS + " records").contains(DemoSetup.RECORDS + " reached the sinks");

      // A job another JVM of the cluster ran shows on this node too.
      ClusterEnvironment submitter = ClusterEnvironment.create(new ClusterOptions(options).setLiteMember(true), ENV)
        .await();
      String elsewhere;
      try {
        submitter.fromBatch(List.of(1, 2, 3)).map(x -> x + 1).sink(x -> { });
        Job job = submitter.submit().await();
        job.completion().await();
        elsewhere = job.id();
        await().atMost(Duration.ofSeconds(10)).until(() -> cli(url, "jobs").out().contains(elsewhere));
      } finally {
        submitter.close().await();
      }

      Run jobs = cli(url, "jobs");
      assertThat(jobs.exitCode()).isZero();
      assertThat(elsewhere).startsWith(ENV + "-").endsWith("-job-1");
      assertThat(jobs.out()).contains("COMPLETED").contains(elsewhere);
      assertThat(jobs.out().lines().filter(l -> l.contains("-job-1 ")).count()).as(jobs.out()).isEqualTo(2);

      Run services = cli(url, "services");
      assertThat(services.exitCode()).isZero();
      assertThat(services.out()).contains("echo");

      Run status = cli(url, "status");
      assertThat(status.exitCode()).as(status.err()).isZero();

      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> unauthorized = http.send(HttpRequest.newBuilder(URI.create(url + "/jobs")).build(),
        HttpResponse.BodyHandlers.ofString());
      assertThat(unauthorized.statusCode()).isEqualTo(401);
      HttpResponse<String> call = http.send(HttpRequest.newBuilder(URI.create(url + "/services/echo/call"))
          .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"method\": \"add\", \"args\": [20, 22]}")).build(),
        HttpResponse.BodyHandlers.ofString());
      assertThat(call.statusCode()).as(call.body()).isEqualTo(200);
      assertThat(call.body()).contains("42");

      // What an operator's curl sees: Sagebus series among the metrics, every service in readiness.
      HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(url + "/metrics"))
        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body())
        .contains("sagebus_client_calls_total{").contains("service=\"echo\"")
        .contains("sagebus_jobs_finished_total{env=\"ops\",status=\"completed\"} 1.0")
        .contains("vertx_eventbus_");
      HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(url + "/health/ready"))
        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      assertThat(new JsonObject(ready.body()).getString("outcome")).isEqualTo("UP");
      assertThat(ready.body()).contains("{\"id\":\"services\",\"status\":\"UP\",\"checks\":[{\"id\":\"echo\",\"status\":\"UP\"");
      HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(url + "/health"))
        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(health.body()).contains("jobs").contains("-job-1\"");
    }
  }
}
