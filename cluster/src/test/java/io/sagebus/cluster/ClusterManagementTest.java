package io.sagebus.cluster;

import io.sagebus.cluster.impl.ClusterNodeDirectory;
import io.sagebus.management.ManagementOptions;
import io.sagebus.management.ManagementServer;
import io.sagebus.testing.EchoService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

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
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @AfterEach
  void tearDown() {
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
}
