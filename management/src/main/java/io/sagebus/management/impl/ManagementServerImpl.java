package io.sagebus.management.impl;

import io.sagebus.CallHandle;
import io.sagebus.CallOptions;
import io.sagebus.Environment;
import io.sagebus.Job;
import io.sagebus.JobOptions;
import io.sagebus.ServiceNotFoundException;
import io.sagebus.ServiceStats;
import io.sagebus.management.ManagementOptions;
import io.sagebus.management.ManagementServer;
import io.sagebus.management.NodeDirectory;
import io.sagebus.ops.SagebusHealth;
import io.sagebus.ops.SagebusMetrics;
import io.sagebus.management.NodeInfo;
import io.sagebus.management.ReplicaInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.MIMEHeader;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The management API: a vertx-web router on an HTTP server of the environment's Vertx.
 */
public final class ManagementServerImpl implements ManagementServer {

  private static final Logger LOG = LoggerFactory.getLogger(ManagementServerImpl.class);
  /** Service, pipeline and job names: what Sagebus accepts as a name. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,99}");
  /** An IPv4 loopback address, 127.0.0.0/8, in dotted form. */
  private static final Pattern LOOPBACK_V4 = Pattern.compile("127(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
  /** Largest request body: 1 MiB. */
  static final long MAX_BODY_BYTES = 1024 * 1024;
  /** Longest timeout a call over HTTP may ask for: 10 minutes. */
  static final long MAX_CALL_TIMEOUT_MS = 10 * 60 * 1000L;
  private static final String JSON = "application/json; charset=utf-8";
  private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  private final Environment env;
  private final Vertx vertx;
  private final ManagementOptions options;
  private final Supplier<String> metrics;
  private final HealthChecks health;
  private final HealthChecks liveness;
  private final HealthChecks readiness;
  private final NodeDirectory nodes;
  private final byte[] tokenDigest;
  private final List<AllowedHost> allowedHosts;
  private final boolean anyHost;
  private final ConsoleRoutes console;
  private HttpServer server;
  private boolean closed;
  private volatile int port = -1;

  /**
   * A server, not yet started.
   *
   * @param env       the environment
   * @param options   its options (not copied: the builder did)
   * @param metrics   the Prometheus scrape, or {@code null}
   * @param health    the checks of {@code /health}, or {@code null}
   * @param liveness  the checks of {@code /health/live}, or {@code null}
   * @param readiness the checks of {@code /health/ready}, or {@code null}
   * @param nodes     the node directory
   */
  public ManagementServerImpl(Environment env, ManagementOptions options, Supplier<String> metrics, HealthChecks health,
                              HealthChecks liveness, HealthChecks readiness, NodeDirectory nodes) {
    this.env = env;
    this.vertx = env.vertx();
    this.options = options;
    // By default: the environment's own metrics, when its Vertx records them, and its health checks.
    this.metrics = metrics != null ? metrics : SagebusMetrics.enabled(vertx) ? () -> SagebusMetrics.scrape(vertx) : null;
    SagebusHealth builtIn = health == null || liveness == null || readiness == null ? SagebusHealth.create(env) : null;
    this.readiness = readiness != null ? readiness : builtIn.readiness();
    this.health = health != null ? health : builtIn.all();
    this.liveness = liveness != null ? liveness : builtIn.liveness();
    this.nodes = nodes;
    this.tokenDigest = options.getToken() == null ? null : sha256(options.getToken());
    this.anyHost = options.getAllowedHosts().contains("*");
    List<AllowedHost> allowed = new ArrayList<>();
    allowed.add(new AllowedHost(normalize(options.getHost()), -1));
    options.getAllowedHosts().stream().filter(h -> !h.equals("*")).map(AllowedHost::parse).forEach(allowed::add);
    this.allowedHosts = List.copyOf(allowed);
    this.console = new ConsoleRoutes();
  }

  /** Loopback by its written form only: no name is looked up. */
  private static boolean loopback(String host) {
    String h = normalize(host);
    return h.equals("localhost") || LOOPBACK_V4.matcher(h).matches() || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
  }

  /** {@return a host as compared: lower case, without IPv6 brackets or a final dot} */
  private static String normalize(String host) {
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }

  /** One entry of {@link ManagementOptions#getAllowedHosts()}: a normalized host and a port, -1 for any. */
  private record AllowedHost(String host, int port) {

    static AllowedHost parse(String entry) {
      int colon = entry.lastIndexOf(':');
      if (colon < 0 || entry.lastIndexOf(']') > colon || (entry.indexOf(':') != colon && !entry.startsWith("["))) {
        return new AllowedHost(normalize(entry), -1);
      }
      return new AllowedHost(normalize(entry.substring(0, colon)), Integer.parseInt(entry.substring(colon + 1)));
    }

    /** {@code port} -1: the request named no port, which an entry with port 80 or 443 takes for its own. */
    boolean matches(String host, int port) {
      return this.host.equals(host) && (this.port == -1 || this.port == port || port == -1 && (this.port == 80
        || this.port == 443));
    }
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  @Override
  public synchronized Future<Void> start() {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("The management server was closed"));
    }
    if (server != null) {
      return Future.failedFuture(new IllegalStateException("The management server was already started"));
    }
    if (tokenDigest == null && !loopback(options.getHost())) {
      return Future.failedFuture(new IllegalStateException("Refusing to serve the management API on "
        + options.getHost() + " without a token: anyone on the network could call services and undeploy them. "
        + "Set a token (ManagementOptions.setToken, or \"token\" in the node's \"management\" settings), or "
        + "listen on 127.0.0.1"));
    }
    server = vertx.createHttpServer(new HttpServerOptions().setHost(options.getHost()).setPort(options.getPort()));
    return server.requestHandler(router()).listen().map(s -> {
      port = s.actualPort();
      LOG.info("Management API of environment '{}' listening on http://{}:{} ({})", env.name(), options.getHost(), port,
        tokenDigest != null ? "a bearer token is required" : "no token: anyone who reaches the port may use it");
      String listen = normalize(options.getHost());
      if ((listen.equals("0.0.0.0") || listen.equals("::")) && options.getAllowedHosts().isEmpty()) {
        LOG.warn("Management API of environment '{}' listens on every interface, but answers only requests naming a "
          + "loopback host in their Host and Origin headers: list the names clients use in ManagementOptions"
          + ".setAllowedHosts (\"allowedHosts\")", env.name());
      }
      return null;
    });
  }

  @Override
  public int actualPort() {
    return port;
  }

  @Override
  public synchronized Future<Void> close() {
    closed = true;
    HttpServer s = server;
    server = null;
    port = -1;
    return s == null ? Future.succeededFuture() : s.close();
  }

  private Router router() {
    Router router = Router.router(vertx);
    // Before anything reads the path: a path that does not decode is answered here, once, as JSON.
    router.route().handler(ManagementServerImpl::checkPath);
    router.route().handler(this::checkHostAndOrigin);
    // The console's files hold no data (what it shows, it asks the API for, with the token): served without one,
    // so that a browser can load the page that asks for it.
    console.mount(router);
    if (tokenDigest != null) {
      router.route().handler(this::authenticate);
    }
    BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES);
    // State-changing endpoints: the JSON check is a route of its own, before the body is read.
    for (String path : List.of("/jobs/:id/cancel", "/services/:name/call", "/pipelines/:name/run")) {
      router.post(path).handler(ManagementServerImpl::requireJson);
    }
    router.delete("/services/:name").handler(ManagementServerImpl::requireJson);
    router.get("/jobs").handler(this::jobs);
    router.get("/jobs/:id").handler(this::job);
    router.get("/jobs/:id/graph").handler(this::graph);
    router.post("/jobs/:id/cancel").handler(ctx -> withJob(ctx, job ->
      job.cancel().onComplete(ar -> json(ctx, 200, job.progress().toJson()))));
    router.get("/services").handler(this::services);
    router.get("/services/:name").handler(this::service);
    router.delete("/services/:name").handler(this::undeploy);
    router.post("/services/:name/call").handler(body).handler(this::call);
    router.get("/pipelines").handler(ctx -> json(ctx, 200,
      new JsonObject().put("pipelines", new JsonArray(env.registeredPipelines()))));
    router.post("/pipelines/:name/run").handler(body).handler(this::run);
    router.get("/nodes").handler(ctx -> nodes.nodes().onComplete(ar -> {
      if (ar.failed()) {
        error(ctx, ApiError.of(ar.cause()));
        return;
      }
      JsonArray list = new JsonArray();
      for (NodeInfo node : ar.result()) {
        list.add(node.toJson());
      }
      json(ctx, 200, new JsonObject().put("nodes", list));
    }));
    router.get("/metrics").handler(this::metrics);
    router.get("/health/live").handler(HealthCheckHandler.createWithHealthChecks(liveness));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness));
    router.get("/health*").handler(HealthCheckHandler.createWithHealthChecks(health));
    router.route().failureHandler(this::failure);
    router.errorHandler(404, ctx -> error(ctx, ApiError.of(404, "NOT_FOUND", "No endpoint " + ctx.request().method()
      + " " + ctx.normalizedPath() + ": see GET /jobs, /services, /nodes, /pipelines, /metrics, /health")));
    router.errorHandler(405, ctx -> error(ctx, ApiError.of(405, "METHOD_NOT_ALLOWED", "Method "
      + ctx.request().method() + " is not allowed on " + ctx.normalizedPath())));
    // What vertx-web answers by itself when no failure handler took the request: JSON too.
    for (int status : new int[] {400, 406, 413, 415, 500}) {
      router.errorHandler(status, this::failure);
    }
    return router;
  }

  /** Answers 400 to a path with a bad percent-encoding; vertx-web would fail on it while matching routes. */
  private static void checkPath(RoutingContext ctx) {
    String path = ctx.request().path();
    try {
      if (path != null && path.indexOf('%') >= 0) {
        URLDecoder.decode(path, StandardCharsets.UTF_8);
      }
    } catch (IllegalArgumentException e) {
      error(ctx, ApiError.of(400, "BAD_REQUEST", "The path '" + shorten(path) + "' has a bad percent-encoding"));
      return;
    }
    ctx.next();
  }

  /**
   * Refuses a request whose {@code Host} names a host outside the allowed list (DNS rebinding: a page
   * of evil.example whose name now resolves to 127.0.0.1), or whose {@code Origin} (a browser's
   * request from a page) is another site's; a page served by this server carries its own host.
   */
  private void checkHostAndOrigin(RoutingContext ctx) {
    if (anyHost) {
      ctx.next();
      return;
    }
    HostAndPort authority = ctx.request().authority();
    if (authority != null && !allowed(authority.host(), authority.port())) {
      refuse(ctx, "HOST_NOT_ALLOWED", "This API does not answer requests for host '" + shorten(authority.host())
        + "' (Host header): allowed are loopback names, the configured host, and ManagementOptions.allowedHosts",
        new JsonObject().put("host", shorten(authority.host())));
      return;
    }
    String origin = ctx.request().getHeader(HttpHeaders.ORIGIN);
    if (origin != null && !allowedOrigin(origin)) {
      refuse(ctx, "ORIGIN_NOT_ALLOWED", "This API does not answer requests from pages of origin '" + shorten(origin)
        + "' (Origin header): allowed are loopback names, the configured host, and ManagementOptions.allowedHosts",
        new JsonObject().put("origin", shorten(origin)));
      return;
    }
    ctx.next();
  }

  private void refuse(RoutingContext ctx, String code, String message, JsonObject details) {
    // Every page may send these: not worth a line per request at the default level.
    LOG.debug("Management API: {} {} refused: {}", ctx.request().method(), shorten(ctx.request().path()), message);
    error(ctx, new ApiError(403, code, message, details));
  }

  private boolean allowed(String host, int port) {
    if (host == null || host.isEmpty()) {
      return false;
    }
    String h = normalize(host);
    if (loopback(h)) {
      return true;
    }
    for (AllowedHost a : allowedHosts) {
      if (a.matches(h, port)) {
        return true;
      }
    }
    return false;
  }

  private boolean allowedOrigin(String origin) {
    URI uri;
    try {
      uri = new URI(origin.trim());
    } catch (URISyntaxException e) {
      return false;
    }
    // "null" (a sandboxed frame, a file) and non-web schemes are no origin this API serves.
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
      return false;
    }
    return allowed(uri.getHost(), uri.getPort());
  }

  /**
   * State-changing endpoints take {@code application/json} only (a charset, when named, is UTF-8), body
   * or none: a web page can send {@code text/plain}, form-encoded or multipart data to any site without
   * asking, but a JSON content type makes the browser ask first (a CORS preflight this API never grants).
   */
  private static void requireJson(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    MIMEHeader type = header == null ? null : ctx.parsedHeaders().contentType();
    String charset = type == null ? null : type.parameter("charset");
    if (type == null || !"application".equalsIgnoreCase(type.component()) || !"json".equalsIgnoreCase(type.subComponent())
      || charset != null && !charset.equalsIgnoreCase("utf-8")) {
      error(ctx, ApiError.of(415, "UNSUPPORTED_MEDIA_TYPE", ctx.request().method() + " " + ctx.normalizedPath()
        + " takes 'Content-Type: application/json' (charset, if any, utf-8), with a JSON body or none; got "
        + (header == null ? "no Content-Type" : "'" + shorten(header) + "'")));
      return;
    }
    ctx.next();
  }

  private void authenticate(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      unauthorized(ctx, "This API needs a bearer token: send the header 'Authorization: Bearer <token>'");
      return;
    }
    // Digests of equal length, compared in constant time: neither the content nor the length leaks.
    if (!MessageDigest.isEqual(tokenDigest, sha256(header.substring(7).trim()))) {
      unauthorized(ctx, "The bearer token is wrong");
      return;
    }
    ctx.next();
  }

  private static void unauthorized(RoutingContext ctx, String message) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"sagebus\"");
    error(ctx, ApiError.of(401, "UNAUTHORIZED", message));
  }

  private void failure(RoutingContext ctx) {
    Throwable cause = ctx.failure();
    int status = ctx.statusCode();
    if (status == 413) {
      error(ctx, ApiError.of(413, "BODY_TOO_LARGE", "The request body is larger than " + MAX_BODY_BYTES + " bytes"));
    } else if (status >= 400 && status < 500) {
      // The client's mistake (vertx-web's own 4xx): answered, not worth a stack trace per request.
      LOG.debug("Management API: {} {} answered {}: {}", ctx.request().method(), shorten(ctx.request().path()), status,
        cause == null ? "-" : String.valueOf(cause.getMessage()));
      error(ctx, ApiError.of(status, status == 400 ? "BAD_REQUEST" : "HTTP_" + status,
        "The request failed with status " + status + (cause == null ? "" : ": " + shorten(cause.getMessage()))));
    } else if (cause != null) {
      LOG.warn("Management API: {} {} failed", ctx.request().method(), shorten(ctx.request().path()), cause);
      error(ctx, ApiError.of(cause));
    } else {
      error(ctx, ApiError.of(status > 0 ? status : 500, "HTTP_" + (status > 0 ? status : 500),
        "The request failed with status " + status));
    }
  }

  // ---- jobs

  private void jobs(RoutingContext ctx) {
    JsonArray list = new JsonArray();
    Set<String> here = new HashSet<>();
    for (Job job : env.jobs()) {
      list.add(job.progress().toJson());
      here.add(job.id());
    }
    nodes.jobs().onComplete(ar -> {
      if (ar.succeeded()) {
        ar.result().stream().filter(j -> !here.contains(j.getString("id"))).forEach(list::add);
      } else {
        LOG.warn("Management API: the jobs of the other JVMs could not be read", ar.cause());
      }
      json(ctx, 200, new JsonObject().put("jobs", list));
    });
  }

  /** A job of this environment, else one another JVM of the deployment runs or ran. */
  private void job(RoutingContext ctx) {
    anyJob(ctx, progress -> json(ctx, 200, progress));
  }

  /** A job's operator graph: its operators with their counters and queues, and the edges between them. */
  private void graph(RoutingContext ctx) {
    anyJob(ctx, progress -> json(ctx, 200, JobGraph.of(progress)));
  }

  /** Hands the progress of a job of this environment (else of one another JVM runs or ran) to {@code then}. */
  private void anyJob(RoutingContext ctx, Consumer<JsonObject> then) {
    String id = ctx.pathParam("id");
    if (!NAME.matcher(id).matches() || env.job(id).isPresent()) {
      withJob(ctx, job -> then.accept(job.progress().toJson()));
      return;
    }
    nodes.jobs().onComplete(ar -> {
      JsonObject remote = ar.failed() ? null
        : ar.result().stream().filter(j -> id.equals(j.getString("id"))).findFirst().orElse(null);
      if (remote != null) {
        then.accept(remote);
      } else {
        withJob(ctx, job -> then.accept(job.progress().toJson()));
      }
    });
  }

  private void withJob(RoutingContext ctx, Consumer<Job> then) {
    String id = ctx.pathParam("id");
    if (!NAME.matcher(id).matches()) {
      error(ctx, ApiError.of(400, "BAD_ID", "Bad job id '" + shorten(id) + "': job ids look like <environment>-job-<n>"));
      return;
    }
    Optional<Job> job = env.job(id);
    if (job.isEmpty()) {
      error(ctx, new ApiError(404, "JOB_NOT_FOUND", "No job '" + id + "': it never ran here, or it ended long ago "
        + "(the last 100 finished jobs are kept)", new JsonObject().put("id", id)));
      return;
    }
    then.accept(job.get());
  }

  // ---- services

  private String name(RoutingContext ctx, String what) {
    String name = ctx.pathParam("name");
    if (!NAME.matcher(name).matches()) {
      error(ctx, ApiError.of(400, "BAD_NAME", "Bad " + what + " name '" + shorten(name) + "': use 1 to 100 letters, "
        + "digits, '_' or '-', starting with a letter or digit"));
      return null;
    }
    return name;
  }

  private void services(RoutingContext ctx) {
    List<Future<JsonObject>> all = new ArrayList<>();
    Set<String> here = new HashSet<>(env.registeredServices());
    for (String name : env.registeredServices()) {
      all.add(env.services().stats(name).compose(stats -> nodes.replicas(name).map(replicas ->
        serviceJson(stats).put("replicas", replicasJson(replicas)))));
    }
    // Then, on a cluster node, what the other JVMs registered: their statistics live in those JVMs.
    Future<List<JsonObject>> elsewhere = nodes.registrations().compose(records -> {
      List<Future<JsonObject>> others = new ArrayList<>();
      records.stream().filter(r -> !here.contains(r.getString("name")))
        .sorted(java.util.Comparator.comparing(r -> r.getString("name")))
        .forEach(r -> others.add(nodes.replicas(r.getString("name")).map(replicas -> elsewhereJson(r, replicas))));
      return Future.all(others).map(v -> others.stream().map(Future::result).toList());
    });
    Future.all(all).onComplete(ar -> {
      if (ar.failed()) {
        error(ctx, ApiError.of(ar.cause()));
        return;
      }
      JsonArray list = new JsonArray();
      for (Future<JsonObject> f : all) {
        list.add(f.result());
      }
      elsewhere.onComplete(others -> {
        if (others.succeeded()) {
          others.result().forEach(list::add);
        } else {
          LOG.warn("Management API: the services of the other JVMs could not be read", others.cause());
        }
        json(ctx, 200, new JsonObject().put("services", list));
      });
    });
  }

  /** A service another JVM registered: its registration and replicas (its statistics live in that JVM). */
  private static JsonObject elsewhereJson(JsonObject record, List<ReplicaInfo> replicas) {
    return new JsonObject()
      .put("name", record.getString("name"))
      .put("type", record.getString("type"))
      .put("registeredBy", record.getString("member"))
      .put("local", record.getBoolean("local", false))
      .put("instances", replicas.size())
      .put("replicas", replicasJson(replicas));
  }

  private static JsonObject serviceJson(ServiceStats stats) {
    JsonObject json = stats.toJson();
    json.remove("service");
    return new JsonObject().put("name", stats.service()).mergeIn(json);
  }

  private void service(RoutingContext ctx) {
    String name = name(ctx, "service");
    if (name == null) {
      return;
    }
    env.services().stats(name).compose(stats -> nodes.replicas(name).map(replicas ->
        serviceJson(stats).put("replicas", replicasJson(replicas))))
      .recover(e -> e instanceof ServiceNotFoundException ? registeredElsewhere(name, e) : Future.failedFuture(e))
      .onComplete(ar -> {
        if (ar.succeeded()) {
          json(ctx, 200, ar.result());
        } else {
          error(ctx, ApiError.of(ar.cause()));
        }
      });
  }

  private static JsonArray replicasJson(List<ReplicaInfo> replicas) {
    JsonArray list = new JsonArray();
    for (ReplicaInfo r : replicas) {
      list.add(r.toJson());
    }
    return list;
  }

  /**
   * A service another JVM of the deployment registered: its registration and replicas from the node
   * directory (its statistics live in that JVM), else the failure that this environment has no such service.
   */
  private Future<JsonObject> registeredElsewhere(String name, Throwable notHere) {
    return nodes.registration(name).compose(record -> record == null ? Future.failedFuture(notHere)
      : nodes.replicas(name).map(replicas -> elsewhereJson(record.copy().put("name", name), replicas)));
  }

  private void undeploy(RoutingContext ctx) {
    String name = name(ctx, "service");
    if (name == null) {
      return;
    }
    env.undeploy(name).onComplete(ar -> {
      if (ar.succeeded()) {
        LOG.info("Management API: service '{}' undeployed", name);
        json(ctx, 200, new JsonObject().put("service", name).put("undeployed", true));
      } else {
        error(ctx, ApiError.of(ar.cause()));
      }
    });
  }

  private void call(RoutingContext ctx) {
    String name = name(ctx, "service");
    if (name == null) {
      return;
    }
    JsonObject body = jsonBody(ctx, true);
    if (body == null) {
      return;
    }
    CallOptions opts;
    Object[] args;
    try {
      Object method = body.getValue("method", CallOptions.DEFAULT_METHOD);
      if (!(method instanceof String m)) {
        throw new IllegalArgumentException("'method' must be a string, got " + method);
      }
      opts = CallOptions.method(m);
      Object rawArgs = body.getValue("args");
      if (rawArgs != null && !(rawArgs instanceof JsonArray)) {
        throw new IllegalArgumentException("'args' must be a JSON array of the method's arguments");
      }
      JsonArray list = rawArgs == null ? new JsonArray() : (JsonArray) rawArgs;
      args = new Object[list.size()];
      for (int i = 0; i < args.length; i++) {
        args[i] = list.getValue(i);
      }
      Object timeout = body.getValue("timeoutMs");
      if (timeout != null) {
        if (!(timeout instanceof Number n) || n.longValue() < 1 || n.longValue() > MAX_CALL_TIMEOUT_MS
          || n.doubleValue() != n.longValue()) {
          throw new IllegalArgumentException("'timeoutMs' must be a whole number of milliseconds from 1 to "
            + MAX_CALL_TIMEOUT_MS + ", got " + timeout);
        }
        opts = opts.timeout(Duration.ofMillis(n.longValue()));
      }
    } catch (IllegalArgumentException e) {
      error(ctx, ApiError.of(400, "BAD_REQUEST", e.getMessage()));
      return;
    }
    String method = opts.getMethod();
    CallHandle<Object> handle = env.services().callCancellable(name, opts, args);
    // A client that disconnects before the answer cancels the call: the service stops the work.
    ctx.response().closeHandler(v -> {
      if (handle.cancel()) {
        LOG.debug("HTTP client of {} disconnected: call {} to {}.{} cancelled", ctx.request().remoteAddress(),
          handle.requestId(), name, method);
      }
    });
    handle.future().onComplete(ar -> {
      if (ar.failed()) {
        error(ctx, ApiError.of(ar.cause()));
        return;
      }
      String encoded;
      try {
        encoded = new JsonObject().put("result", ar.result()).encode();
      } catch (RuntimeException e) {
        error(ctx, new ApiError(502, "BAD_RESULT", "The result of " + name + "." + method + " has no JSON form: " + e,
          new JsonObject().put("service", name).put("method", method)));
        return;
      }
      ctx.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(encoded);
    });
  }

  /** {@return the body as a JSON object, {@code null} after answering 400; an empty body is {@code {}} unless required} */
  private static JsonObject jsonBody(RoutingContext ctx, boolean required) {
    String text = ctx.body() == null ? null : ctx.body().asString();
    if (text == null || text.isBlank()) {
      if (required) {
        error(ctx, ApiError.of(400, "BAD_REQUEST", "The request needs a JSON body"));
        return null;
      }
      return new JsonObject();
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      error(ctx, ApiError.of(400, "BAD_REQUEST", "The body is not a JSON object: " + shorten(e.getMessage())));
      return null;
    }
  }

  // ---- pipelines

  private void run(RoutingContext ctx) {
    String name = name(ctx, "pipeline");
    if (name == null) {
      return;
    }
    JsonObject body = jsonBody(ctx, false);
    if (body == null) {
      return;
    }
    JobOptions jobOptions;
    try {
      jobOptions = new JobOptions(body.getJsonObject("options", new JsonObject()));
    } catch (IllegalArgumentException | ClassCastException e) {
      error(ctx, ApiError.of(400, "BAD_REQUEST", "Bad job options: " + e.getMessage()));
      return;
    }
    env.runPipeline(name, jobOptions).onComplete(ar -> {
      if (ar.succeeded()) {
        Job job = ar.result();
        LOG.info("Management API: pipeline '{}' started as job {}", name, job.id());
        ctx.response().putHeader(HttpHeaders.LOCATION, "/jobs/" + job.id());
        json(ctx, 202, job.progress().toJson());
      } else if (ar.cause() instanceof IllegalStateException e) {
        error(ctx, new ApiError(500, "PIPELINE_INVALID", e.getMessage(), new JsonObject().put("pipeline", name)));
      } else {
        error(ctx, ApiError.of(ar.cause()));
      }
    });
  }

  // ---- metrics

  private void metrics(RoutingContext ctx) {
    if (metrics == null) {
      error(ctx, ApiError.of(404, "METRICS_DISABLED", "This node exposes no metrics: give the management server a "
        + "Prometheus scrape (ManagementServer.builder(env).metrics(registry::scrape))"));
      return;
    }
    vertx.executeBlocking(metrics::get, false).onComplete(ar -> {
      if (ar.failed() || ar.result() == null) {
        if (ar.failed()) {
          LOG.warn("Management API: the metrics scrape failed", ar.cause());
        }
        error(ctx, ApiError.of(503, "METRICS_UNAVAILABLE", "The metrics scrape failed"
          + (ar.failed() ? ": " + ar.cause() : ": it returned nothing")));
        return;
      }
      ctx.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, PROMETHEUS).end(ar.result());
    });
  }

  // ---- answers

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) {
      return;
    }
    if (!unreadBody(ctx)) {
      ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(body.encode());
      return;
    }
    // Answered before its body was read (a refusal): vertx-web paused the request, and the connection cannot
    // carry another request before the body is gone. Closing it after the answer costs the client a reconnect,
    // never a stalled connection, and reads nothing more of a body that may be large.
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON)
      .putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE).end(body.encode())
      .onComplete(ar -> ctx.request().connection().close());
  }

  /** {@return whether an HTTP/1 request announced a body that is not read yet} */
  private static boolean unreadBody(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    if (request.isEnded() || request.version() == HttpVersion.HTTP_2) {
      return false;
    }
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    return length != null && !length.trim().equals("0") || request.headers().contains(HttpHeaders.TRANSFER_ENCODING,
      HttpHeaders.CHUNKED, true);
  }

  private static void error(RoutingContext ctx, ApiError error) {
    if (error.status() == 503 && "OVERLOADED".equals(error.code())) {
      ctx.response().putHeader("Retry-After", "1");
    }
    json(ctx, error.status(), error.toJson());
  }

  private static String shorten(String text) {
    if (text == null) {
      return "null";
    }
    return text.length() <= 120 ? text : text.substring(0, 120) + "...";
  }
}
