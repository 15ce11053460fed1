package io.sagebus.management;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sagebus.EnvironmentOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.testing.CountingService;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The management API against web pages: what a browser on the machine can send to a no-token
 * loopback API (a cross-site POST, a DNS-rebound host name) is refused before anything runs, and
 * what curl, the CLI and a page of the server itself send still works. Raw HTTP/1.1 on a socket,
 * which lets a test set the Host header and send paths as they are.
 */
@ExtendWith(VertxExtension.class)
class ManagementGuardTest {

  private static final String TOKEN = "guard-test-token-0123456789abcdef";
  private static final String CALL = "/services/counter/call";
  private static final String BODY = new JsonObject().put("args", new JsonArray()).encode();

  private LocalEnvironment env;
  private ManagementServer server;
  private int port;
  private final AtomicInteger calls = new AtomicInteger();

  /** What the server answered. */
  record Answer(int status, Map<String, String> headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }

    String error() {
      return json().getString("error");
    }
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "guard", new EnvironmentOptions());
    env.registerService("counter", () -> new CountingService(calls));
    env.registerPipeline("nothing", e -> e.fromBatch(List.of(1)).sink(x -> { }));
    env.deploy("counter").await();
    // The README's no-token API of a node: 127.0.0.1 only.
    server = start(new ManagementOptions().setPort(0));
    port = server.actualPort();
  }

  private ManagementServer start(ManagementOptions options) {
    ManagementServer s = ManagementServer.create(env, options);
    s.start().await();
    return s;
  }

  @AfterEach
  void tearDown() {
    server.close().await();
    env.close().await();
  }

  /**
   * Sends one request on a connection of its own, byte for byte as written (as an attacker's page or
   * curl would), and reads the answer to the end; {@code host} is the Host header's host
   * ({@code null}: 127.0.0.1 and the port).
   */
  private static Answer send(int port, HttpMethod method, String uri, String host, Map<String, String> headers,
                             String body) {
    byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder(method.name()).append(' ').append(uri).append(" HTTP/1.1\r\n")
      .append("Host: ").append(host == null ? "127.0.0.1:" + port : host).append("\r\n")
      .append("Connection: close\r\n");
    headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
    if (body != null) {
      head.append("Content-Length: ").append(content.length).append("\r\n");
    }
    head.append("\r\n");
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      try {
        out.write(content);
        out.flush();
      } catch (IOException e) {
        // The server may answer and close before it reads a body it refuses: read that answer.
      }
      String text = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int split = text.indexOf("\r\n\r\n");
      String[] lines = text.substring(0, split).split("\r\n");
      Map<String, String> answerHeaders = new HashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        answerHeaders.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
      return new Answer(Integer.parseInt(lines[0].split(" ")[1]), answerHeaders, text.substring(split + 4));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Answer send(HttpMethod method, String uri, Map<String, String> headers, String body) {
    return send(port, method, uri, null, headers, body);
  }

  private static void assertJsonError(Answer answer, int status, String error) {
    assertThat(answer.status()).as(answer.body()).isEqualTo(status);
    assertThat(answer.headers().get("content-type")).startsWith("application/json");
    assertThat(answer.json().getInteger("status")).isEqualTo(status);
    assertThat(answer.error()).isEqualTo(error);
    assertThat(answer.json().getString("message")).isNotBlank();
  }

  @Test
  void aCrossSiteTextPlainPostIsRefusedAndTheServiceNeverRuns() {
    // What any page open in a browser on this machine can send without asking (no CORS preflight).
    Answer crossSite = send(HttpMethod.POST, CALL,
      Map.of("Origin", "http://evil.example", "Content-Type", "text/plain;charset=UTF-8"), BODY);
    assertJsonError(crossSite, 403, "ORIGIN_NOT_ALLOWED");
    assertThat(crossSite.headers()).doesNotContainKey("access-control-allow-origin");
    // The same with a JSON type (which a browser would only send after a preflight), and from a sandboxed frame.
    assertJsonError(send(HttpMethod.POST, CALL, Map.of("Origin", "http://evil.example", "Content-Type",
      "application/json"), BODY), 403, "ORIGIN_NOT_ALLOWED");
    assertJsonError(send(HttpMethod.POST, CALL, Map.of("Origin", "null", "Content-Type", "application/json"), BODY),
      403, "ORIGIN_NOT_ALLOWED");
    // A look-alike of loopback is not loopback.
    assertJsonError(send(HttpMethod.POST, CALL, Map.of("Origin", "http://127.0.0.1.evil.example:" + port,
      "Content-Type", "application/json"), BODY), 403, "ORIGIN_NOT_ALLOWED");
    // Even without an Origin, a body that is not declared JSON never runs anything.
    assertJsonError(send(HttpMethod.POST, CALL, Map.of("Content-Type", "text/plain"), BODY), 415,
      "UNSUPPORTED_MEDIA_TYPE");
    assertJsonError(send(HttpMethod.POST, CALL, Map.of("Content-Type", "application/x-www-form-urlencoded"),
      "{\"args\":[]}="), 415, "UNSUPPORTED_MEDIA_TYPE");
    assertJsonError(send(HttpMethod.POST, CALL, Map.of("Content-Type", "multipart/form-data; boundary=x"),
      "--x\r\n\r\n" + BODY + "\r\n--x--\r\n"), 415, "UNSUPPORTED_MEDIA_TYPE");
    assertJsonError(send(HttpMethod.POST, CALL, Map.of(), BODY), 415, "UNSUPPORTED_MEDIA_TYPE");
    assertJsonError(send(HttpMethod.POST, CALL, Map.of("Content-Type", "application/json; charset=iso-8859-1"), BODY),
      415, "UNSUPPORTED_MEDIA_TYPE");
    // Every state-changing endpoint: run, cancel, undeploy.
    for (String[] endpoint : new String[][] {{"POST", "/pipelines/nothing/run"}, {"POST", "/jobs/guard-job-1/cancel"},
      {"DELETE", "/services/counter"}}) {
      HttpMethod method = HttpMethod.valueOf(endpoint[0]);
      assertJsonError(send(method, endpoint[1], Map.of("Content-Type", "text/plain"), "{}"), 415,
        "UNSUPPORTED_MEDIA_TYPE");
      assertJsonError(send(method, endpoint[1], Map.of("Origin", "http://evil.example", "Content-Type",
        "application/json"), null), 403, "ORIGIN_NOT_ALLOWED");
    }
    assertThat(env.jobs()).as("no pipeline ran").isEmpty();
    assertThat(calls.get()).as("the service never ran").isZero();
    // The same call, as curl sends it, does run.
    Answer curl = send(HttpMethod.POST, CALL, Map.of("Content-Type", "application/json"), BODY);
    assertThat(curl.status()).as(curl.body()).isEqualTo(200);
    assertThat(curl.json().getInteger("result")).isEqualTo(1);
    assertThat(calls.get()).isEqualTo(1);
  }

  @Test
  void aRequestForAnotherHostIsRefusedOnEveryEndpoint() {
    // DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1.
    for (String path : List.of("/jobs", "/services", "/services/counter", "/nodes", "/pipelines", "/health",
      "/metrics", "/nowhere", "/", "/console/app.js", "/console/vendor/uplot/dist/uPlot.esm.js")) {
      Answer answer = send(port, HttpMethod.GET, path, "evil.example", Map.of(), null);
      assertJsonError(answer, 403, "HOST_NOT_ALLOWED");
      assertThat(answer.json().getString("host")).isEqualTo("evil.example");
    }
    assertJsonError(send(port, HttpMethod.POST, CALL, "evil.example", Map.of("Content-Type", "application/json"), BODY),
      403, "HOST_NOT_ALLOWED");
    assertJsonError(send(port, HttpMethod.GET, "/jobs", "127.0.0.1.evil.example", Map.of(), null), 403,
      "HOST_NOT_ALLOWED");
    assertJsonError(send(port, HttpMethod.GET, "/jobs", "localhost.evil.example", Map.of(), null), 403,
      "HOST_NOT_ALLOWED");
    assertThat(calls.get()).isZero();
    // Loopback names, with any port.
    for (String host : List.of("localhost", "LOCALHOST", "127.0.0.1", "127.4.5.6", "[::1]")) {
      assertThat(send(port, HttpMethod.GET, "/jobs", host, Map.of(), null).status()).as(host).isEqualTo(200);
    }
  }

  @Test
  void sameOriginAndNoOriginJsonRequestsWork() {
    // A page served by this server (the console at /): its Origin is the server's own host and port.
    for (String origin : List.of("http://127.0.0.1:" + port, "http://localhost:" + port, "http://[::1]:" + port)) {
      Answer answer = send(HttpMethod.POST, CALL, Map.of("Origin", origin, "Content-Type", "application/json"), BODY);
      assertThat(answer.status()).as(origin + ": " + answer.body()).isEqualTo(200);
      assertThat(send(HttpMethod.GET, "/jobs", Map.of("Origin", origin), null).status()).isEqualTo(200);
    }
    // curl, the CLI: no Origin; a charset, any case.
    assertThat(send(HttpMethod.POST, CALL, Map.of("Content-Type", "Application/JSON; charset=UTF-8"), BODY).status())
      .isEqualTo(200);
    Answer run = send(HttpMethod.POST, "/pipelines/nothing/run", Map.of("Content-Type", "application/json"), null);
    assertThat(run.status()).as(run.body()).isEqualTo(202);
    assertThat(calls.get()).isEqualTo(4);
  }

  @Test
  void extraAllowedHostsComeFromTheOptions() {
    ManagementServer other = start(new ManagementOptions().setPort(0)
      .setAllowedHosts(List.of("sagebus.internal", "Console.Example:8443")));
    try {
      int p = other.actualPort();
      assertThat(send(p, HttpMethod.GET, "/jobs", "sagebus.internal", Map.of(), null).status()).isEqualTo(200);
      assertThat(send(p, HttpMethod.GET, "/jobs", "localhost", Map.of(), null).status()).isEqualTo(200);
      assertThat(send(p, HttpMethod.POST, CALL, null, Map.of("Origin", "https://console.example:8443",
        "Content-Type", "application/json"), BODY).status()).isEqualTo(200);
      assertJsonError(send(p, HttpMethod.POST, CALL, null, Map.of("Origin", "https://console.example:9443",
        "Content-Type", "application/json"), BODY), 403, "ORIGIN_NOT_ALLOWED");
      assertJsonError(send(p, HttpMethod.GET, "/jobs", "evil.example", Map.of(), null), 403, "HOST_NOT_ALLOWED");
    } finally {
      other.close().await();
    }
    ManagementServer any = start(new ManagementOptions().setPort(0).setToken(TOKEN).addAllowedHost("*"));
    try {
      assertThat(send(any.actualPort(), HttpMethod.GET, "/jobs", "anything.example",
        Map.of("Authorization", "Bearer " + TOKEN), null).status()).isEqualTo(200);
    } finally {
      any.close().await();
    }
  }

  @Test
  void theTokenStillRulesAndAForeignHostIsRefusedBeforeIt() {
    ManagementServer guarded = start(new ManagementOptions().setPort(0).setToken(TOKEN));
    try {
      int p = guarded.actualPort();
      Map<String, String> json = Map.of("Content-Type", "application/json");
      assertJsonError(send(p, HttpMethod.POST, CALL, null, json, BODY), 401, "UNAUTHORIZED");
      Map<String, String> authorized = Map.of("Content-Type", "application/json", "Authorization", "Bearer " + TOKEN);
      assertJsonError(send(p, HttpMethod.POST, CALL, "evil.example", authorized, BODY), 403, "HOST_NOT_ALLOWED");
      assertJsonError(send(p, HttpMethod.POST, CALL, null, Map.of("Authorization", "Bearer " + TOKEN,
        "Content-Type", "text/plain"), BODY), 415, "UNSUPPORTED_MEDIA_TYPE");
      assertThat(calls.get()).isZero();
      assertThat(send(p, HttpMethod.POST, CALL, null, authorized, BODY).status()).isEqualTo(200);
      assertThat(calls.get()).isEqualTo(1);
    } finally {
      guarded.close().await();
    }
  }

  @Test
  void aBadPercentEncodingAnswersJson400AndLogsNoStackTrace() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    root.addAppender(events);
    try {
      for (int i = 0; i < 3; i++) {
        assertJsonError(send(HttpMethod.GET, "/jobs/%zz", Map.of(), null), 400, "BAD_REQUEST");
        assertJsonError(send(HttpMethod.GET, "/%zz", Map.of(), null), 400, "BAD_REQUEST");
        assertJsonError(send(HttpMethod.GET, "/services/%e0%a4%a", Map.of(), null), 400, "BAD_REQUEST");
        assertJsonError(send(HttpMethod.POST, "/services/%zz/call", Map.of("Content-Type", "application/json"), BODY),
          400, "BAD_REQUEST");
      }
    } finally {
      root.detachAppender(events);
    }
    List<ILoggingEvent> traces = new ArrayList<>();
    for (ILoggingEvent e : events.list) {
      if (e.getThrowableProxy() != null || e.getLevel().isGreaterOrEqual(Level.WARN)) {
        traces.add(e);
      }
    }
    assertThat(traces).extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    assertThat(calls.get()).isZero();
  }

  @Test
  void vertxWebsOwnErrorsAreJson() {
    assertJsonError(send(HttpMethod.GET, "/nowhere", Map.of(), null), 404, "NOT_FOUND");
    assertJsonError(send(HttpMethod.PUT, "/jobs", Map.of("Content-Type", "application/json"), "{}"), 405,
      "METHOD_NOT_ALLOWED");
    // A browser's CORS preflight: no CORS answer, so the browser sends nothing after it.
    Answer preflight = send(HttpMethod.OPTIONS, CALL, Map.of("Origin", "http://127.0.0.1:" + port,
      "Access-Control-Request-Method", "POST"), null);
    assertJsonError(preflight, 405, "METHOD_NOT_ALLOWED");
    assertThat(preflight.headers()).doesNotContainKey("access-control-allow-origin");
    // A body announced over the limit is refused before it is sent.
    assertJsonError(send(HttpMethod.POST, CALL, Map.of("Content-Type", "application/json",
      "Content-Length", String.valueOf(2 * 1024 * 1024)), null), 413, "BODY_TOO_LARGE");
    assertJsonError(send(HttpMethod.POST, CALL, Map.of("Content-Type", "application/json"), "{not json"), 400,
      "BAD_REQUEST");
    assertThat(calls.get()).isZero();
  }

  @Test
  void allowedHostsRoundTripThroughJsonAndValidate() {
    ManagementOptions o = new ManagementOptions().setPort(0).setAllowedHosts(List.of("Sagebus.Internal", "10.0.0.5:8089",
      "[fd00::5]", "*"));
    assertThat(o.getAllowedHosts()).containsExactly("sagebus.internal", "10.0.0.5:8089", "[fd00::5]", "*");
    assertThat(new ManagementOptions(o.toJson())).isEqualTo(o);
    assertThat(new ManagementOptions(o)).isEqualTo(o);
    assertThat(o.toJson().getJsonArray("allowedHosts")).containsExactly("sagebus.internal", "10.0.0.5:8089",
      "[fd00::5]", "*");
    assertThat(new ManagementOptions().getAllowedHosts()).isEqualTo(ManagementOptions.DEFAULT_ALLOWED_HOSTS).isEmpty();
    assertThat(new ManagementOptions(new JsonObject()).getAllowedHosts()).isEmpty();
    assertThat(new ManagementOptions().addAllowedHost("a.example").addAllowedHost("b.example").getAllowedHosts())
      .containsExactly("a.example", "b.example");
    for (String bad : List.of("", "http://x.example", "x.example/", "x.example:99999", "x.example:0", "a b",
      "*.example", "-x.example")) {
      assertThatThrownBy(() -> new ManagementOptions().addAllowedHost(bad)).as(bad)
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("allowed host");
    }
    assertThatThrownBy(() -> new ManagementOptions().setAllowedHosts(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ManagementOptions(new JsonObject().put("allowedHosts", "x.example")))
      .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ManagementOptions(new JsonObject().put("allowedHosts", new JsonArray().add(5))))
      .isInstanceOf(IllegalArgumentException.class);
  }
}
