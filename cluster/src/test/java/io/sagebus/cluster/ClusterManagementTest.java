package io.sagebus.cluster;

import io.sagebus.Job;
import io.sagebus.JobStatus;
import io.sagebus.cluster.impl.ClusterNodeDirectory;
import io.sagebus.management.ManagementOptions;
import io.sagebus.management.ManagementServer;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.HeadlessChromium;
import io.sagebus.testing.SlowService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

import static io.sagebus.cluster.ClusterTesting.ENV;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The management API of a cluster node (an agent, the node's own environment and its API, as
 * {@code SagebusNode} sets them up) and a submitting JVM that registers the services, both members
 * in this JVM: the node shows the services the other JVM registered, as it calls them, and its
 * node details carry the environment and the services running there.
 */
class ClusterManagementTest {

  /** This class's own port range: 15961 to 15980. */
  private static final int FIRST_PORT = 15961;

  private Vertx node;
  private Vertx submitter;
  private ClusterEnvironment nodeEnv;
  private ClusterEnvironment env;
  private ManagementServer server;
  private HeadlessChromium browser;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @AfterEach
  void tearDown() {
    if (browser != null) {
      browser.close();
    }
    http.close();
    if (env != null) {
      env.close().await();
    }
    if (server != null) {
      server.close().await();
    }
    if (nodeEnv != null) {
      nodeEnv.close().await();
    }
    // Youngest first (see ClusterEnvironmentTest).
    ClusterTesting.close(submitter);
    ClusterTesting.close(node);
  }

  private HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path))
      .timeout(Duration.ofSeconds(30))
      .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (!method.equals("GET")) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aNodeShowsTheServicesAnotherJvmRegisteredAsItCallsThem() throws Exception {
    ClusterOptions options = ClusterTesting.options(ClusterManagementTest.class, FIRST_PORT);
    node = ClusterTesting.start("n1", options);
    ServiceCatalog catalog = ServiceCatalog.fromJson(new JsonObject().put("services", new JsonObject()
      .put("echo", new JsonObject().put("class", EchoService.class.getName()))));
    node.deployVerticle(NodeAgentVerticle.clustered(ENV, "n1", catalog)).await();
    nodeEnv = ClusterEnvironment.create(node, ENV, null).await();
    String nodeMember = SagebusCluster.hazelcast(node).getCluster().getLocalMember().getUuid().toString();
    server = ManagementServer.builder(nodeEnv).options(new ManagementOptions().setPort(0))
      .nodes(new ClusterNodeDirectory(nodeEnv, nodeMember)).build();
    server.start().await();

    submitter = ClusterTesting.start("submitter", new ClusterOptions(options).setLiteMember(true));
    env = ClusterEnvironment.create(submitter, ENV, null).await();
    String submitterMember = SagebusCluster.hazelcast(submitter).getCluster().getLocalMember().getUuid().toString();
    env.registerService("echo", EchoService.class);
    env.registerService("here", EchoService::new);
    env.start().await();

    // The call works from the node...
    HttpResponse<String> call = send("POST", "/services/echo/call", "{\"method\": \"add\", \"args\": [20, 22]}");
    assertThat(call.statusCode()).as(call.body()).isEqualTo(200);
    assertThat(new JsonObject(call.body()).getInteger("result")).isEqualTo(42);

    // ...and so does looking the service up: its registration and its replica on n1.
    HttpResponse<String> echo = send("GET", "/services/echo", null);
    assertThat(echo.statusCode()).as(echo.body()).isEqualTo(200);
    JsonObject shown = new JsonObject(echo.body());
    assertThat(shown.getString("name")).isEqualTo("echo");
    assertThat(shown.getString("type")).isEqualTo(EchoService.class.getName());
    assertThat(shown.getString("registeredBy")).isEqualTo(submitterMember);
    assertThat(shown.getBoolean("local")).isFalse();
    assertThat(shown.getInteger("instances")).isEqualTo(1);
    assertThat(shown.getJsonArray("replicas")).containsExactly(new JsonObject().put("index", 0).put("node", "n1"));

    // A supplier's instances run in the JVM that registered it.
    HttpResponse<String> here = send("GET", "/services/here", null);
    assertThat(here.statusCode()).as(here.body()).isEqualTo(200);
    assertThat(new JsonObject(here.body()).getBoolean("local")).isTrue();
    assertThat(new JsonObject(here.body()).getString("registeredBy")).isEqualTo(submitterMember);

    // The list shows them too: registered by the submitter, with their replicas; statistics stay in that JVM.
    HttpResponse<String> all = send("GET", "/services", null);
    assertThat(all.statusCode()).as(all.body()).isEqualTo(200);
    JsonArray services = new JsonObject(all.body()).getJsonArray("services");
    assertThat(services.stream().map(o -> ((JsonObject) o).getString("name")).toList()).containsExactly("echo", "here");
    JsonObject listed = services.getJsonObject(0);
    assertThat(listed.getString("registeredBy")).isEqualTo(submitterMember);
    assertThat(listed.getJsonArray("replicas")).containsExactly(new JsonObject().put("index", 0).put("node", "n1"));
    assertThat(listed.containsKey("requests")).isFalse();

    HttpResponse<String> missing = send("GET", "/services/missing", null);
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(missing.body()).getString("error")).isEqualTo("SERVICE_NOT_FOUND");

    // The node's details: its environment and the services it runs.
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      HttpResponse<String> nodes = send("GET", "/nodes", null);
      assertThat(nodes.statusCode()).isEqualTo(200);
      JsonArray list = new JsonObject(nodes.body()).getJsonArray("nodes");
      assertThat(list).hasSize(1);
      JsonObject n1 = list.getJsonObject(0);
      assertThat(n1.getString("id")).isEqualTo("n1");
      assertThat(n1.getBoolean("self")).isTrue();
      JsonObject details = n1.getJsonObject("details");
      assertThat(details.getString("environment")).isEqualTo(ENV);
      assertThat(details.getString("mode")).isEqualTo("cluster");
      assertThat(details.getJsonArray("services")).containsExactly("echo");
      assertThat(details.getJsonObject("catalogue").getString("echo")).isEqualTo(EchoService.class.getName());
    });
  }

  /**
   * The console of a node in a browser (skipped without Debian's chromium and chromedriver): the
   * cluster's node, the services another JVM registered with their replicas on the node, a job that
   * JVM runs advancing, a call to a service from the page, and a named pipeline of the node run to
   * its end.
   */
  @Test
  void theConsoleOfANodeShowsTheClusterAndDrivesIt() {
    String why = HeadlessChromium.unavailable();
    Assumptions.assumeTrue(why == null, () -> "ClusterManagementTest's browser test skipped: " + why);
    Duration wait = Duration.ofSeconds(90);
    ClusterOptions options = ClusterTesting.options(ClusterManagementTest.class, FIRST_PORT);
    node = ClusterTesting.start("n1", options);
    ServiceCatalog catalog = ServiceCatalog.fromJson(new JsonObject().put("services", new JsonObject()
      .put("echo", new JsonObject().put("class", EchoService.class.getName()))
      .put("slow", new JsonObject().put("class", SlowService.class.getName()))));
    node.deployVerticle(NodeAgentVerticle.clustered(ENV, "n1", catalog)).await();
    nodeEnv = ClusterEnvironment.create(node, ENV, null).await();
    nodeEnv.registerPipeline("doubles", e -> e.fromBatch(IntStream.rangeClosed(1, 200).boxed().toList())
      .map(x -> 2 * e.services().<Integer>call("echo", x)).name("double")
      .sink(x -> { }).name("drop"));
    String nodeMember = SagebusCluster.hazelcast(node).getCluster().getLocalMember().getUuid().toString();
    server = ManagementServer.builder(nodeEnv).options(new ManagementOptions().setPort(0))
      .nodes(new ClusterNodeDirectory(nodeEnv, nodeMember)).build();
    server.start().await();

    submitter = ClusterTesting.start("submitter", new ClusterOptions(options).setLiteMember(true));
    env = ClusterEnvironment.create(submitter, ENV, null).await();
    env.registerService("echo", EchoService.class);
    env.registerService("slow", SlowService.class);
    env.start().await();
    ClusterTesting.awaitVisible(node, "sagebus." + ENV + ".service.echo");
    // A slow job of the other JVM: 20 ms a record on n1's replica, 3,000 records.
    env.fromBatch(IntStream.range(0, 3000).boxed().toList())
      .map(x -> env.services().<Number>call("slow", 20L).longValue()).name("wait")
      .sink(x -> { }).name("count");
    Job remote = env.submit().await();

    browser = HeadlessChromium.start(1400, 1000);
    String url = "http://127.0.0.1:" + server.actualPort() + "/";
    browser.open(url + "#/nodes");
    browser.await(wait, "n1 in cluster mode with its heap", d -> {
      List<WebElement> cells = d.findElements(By.cssSelector("#nodes tr[data-key='n1'] td"));
      return cells.size() > 7 && cells.get(3).getText().equals("cluster") && cells.get(2).getText().equals("yes")
        && cells.get(7).getText().contains("MiB /");
    });

    browser.open(url + "#/services");
    browser.await(wait, "echo, registered by the other JVM, with its replica on n1", d -> {
      List<WebElement> cells = d.findElements(By.cssSelector("#services tr[data-key='echo'] td"));
      return cells.size() > 2 && cells.get(2).getText().equals("n1");
    });
    browser.open(url + "#/services/echo");
    browser.await(wait, "echo's registration", d -> d.findElement(By.cssSelector("dd[data-field='registered']"))
      .getText().startsWith("member "));
    WebElement method = browser.visible("call-method", wait);
    method.clear();
    method.sendKeys("add");
    WebElement args = browser.visible("call-args", wait);
    args.clear();
    args.sendKeys("[20, 22]");
    browser.driver().findElement(By.id("call")).click();
    browser.await(wait, "the node's answer", d -> browser.text("call-result").equals("42"));

    browser.open(url + "#/jobs");
    String key = remote.id();
    long first = browser.await(wait, "the other JVM's job, running there", d -> {
      List<WebElement> cells = d.findElements(By.cssSelector("#jobs tr[data-key='" + key + "'] td"));
      if (cells.size() < 10 || !cells.get(9).getText().startsWith("member ")) {
        return null;
      }
      long n = Long.parseLong(cells.get(2).getText().split(" ")[0].replace(",", ""));
      return n > 0 ? n : null;
    });
    browser.await(wait, "its progress to advance", d -> {
      List<WebElement> cells = d.findElements(By.cssSelector("#jobs tr[data-key='" + key + "'] td"));
      return cells.size() > 2 && Long.parseLong(cells.get(2).getText().split(" ")[0].replace(",", "")) > first;
    });
    // Its graph, from the progress that JVM publishes.
    browser.open(url + "#/jobs/" + key);
    browser.await(wait, "its graph", d -> d.findElements(By.cssSelector("#job-graph g.op")).size() == 3);
    remote.cancel().await();

    browser.open(url + "#/jobs");
    browser.await(wait, "the pipelines", d -> new Select(d.findElement(By.id("pipeline"))).getOptions().size() == 1);
    browser.driver().findElement(By.id("run")).click();
    String message = browser.await(wait, "started", d -> browser.text("run-message").startsWith("Started pipeline doubles")
      ? browser.text("run-message") : null);
    String id = message.substring(message.lastIndexOf(' ') + 1);
    browser.await(wait, "the node's job COMPLETED", d -> {
      List<WebElement> cells = d.findElements(By.cssSelector("#jobs tr[data-key='" + id + "'] td"));
      return cells.size() > 2 && cells.get(1).getText().equals("COMPLETED") && cells.get(2).getText().equals("200 / 200 (100%)");
    });
    assertThat(nodeEnv.job(id).orElseThrow().status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(browser.consoleLog()).noneMatch(l -> l.contains("Content Security Policy") || l.contains("Uncaught"));
  }
}
