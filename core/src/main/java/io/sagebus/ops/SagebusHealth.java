package io.sagebus.ops;

import io.sagebus.Environment;
import io.sagebus.impl.ServiceOps;
import io.sagebus.impl.ServiceRegistry;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Liveness and readiness of an environment's services in this JVM (this node), as
 * vertx-health-check {@link HealthChecks}, ready to be served by vertx-web's
 * {@code HealthCheckHandler.createWithHealthChecks(...)} under {@code /health/live},
 * {@code /health/ready} and {@code /health} ({@link #all()}).
 * <p>
 * Procedures (services registered later get theirs when they are registered):
 * <ul>
 *   <li>liveness {@code environment}: UP while the environment is open;</li>
 *   <li>liveness {@code services/<name>}: UP when the event loop of each running instance of
 *       the service here answers within the procedure's timeout (1 s);</li>
 *   <li>readiness {@code environment}: as in liveness;</li>
 *   <li>readiness {@code services/<name>}: DOWN while an instance here is deploying or stopping,
 *       and while the callers' circuit breaker here is open or half-open; UP otherwise (also
 *       when no instance runs here). Data: {@code running}, {@code starting}, {@code stopping},
 *       {@code circuit} (when the service has a breaker).</li>
 * </ul>
 * More procedures (jobs, ...) are registered on the checks themselves, for instance
 * {@code health.readiness().register("jobs/" + id, promise -> ...)}; {@link #all()} shows them too.
 * The node is UP when every procedure is.
 */
public final class SagebusHealth {

  private final Vertx vertx;
  private final ServiceRegistry registry;
  private final HealthChecks liveness;
  private final HealthChecks readiness;
  private final HealthChecks all;

  private SagebusHealth(Vertx vertx, ServiceRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
    this.liveness = HealthChecks.create(vertx);
    this.readiness = HealthChecks.create(vertx);
    this.all = HealthChecks.create(vertx);
    liveness.register("environment", this::environmentOpen);
    readiness.register("environment", this::environmentOpen);
    all.register("live", promise -> nested(liveness, promise));
    all.register("ready", promise -> nested(readiness, promise));
    registry.onRegister(this::add);
    for (String name : registry.names()) {
      add(registry.get(name));
    }
  }

  /**
   * {@return the health checks of the environment's services in this JVM}
   * <p>
   * Make one per environment and keep it (each one listens for the environment's new services).
   *
   * @param environment an open environment
   * @throws IllegalStateException when the environment is closed
   */
  public static SagebusHealth create(Environment environment) {
    ServiceRegistry registry = ServiceRegistry.lookup(environment.vertx(), environment.name());
    if (registry == null) {
      throw new IllegalStateException("Environment '" + environment.name() + "' is closed");
    }
    return new SagebusHealth(environment.vertx(), registry);
  }

  /**
   * {@return the liveness checks: is this node working (for {@code /health/live})}
   */
  public HealthChecks liveness() {
    return liveness;
  }

  /**
   * {@return the readiness checks: can every service here take calls now (for {@code /health/ready})}
   */
  public HealthChecks readiness() {
    return readiness;
  }

  /**
   * {@return both, as procedures {@code live} and {@code ready} (for {@code /health})}
   */
  public HealthChecks all() {
    return all;
  }

  private synchronized void add(ServiceRegistry.Registration registration) {
    String name = "services/" + registration.definition().name();
    liveness.register(name, promise -> live(registration, promise));
    readiness.register(name, promise -> ready(registration, promise));
  }

  private void environmentOpen(Promise<Status> promise) {
    JsonObject data = new JsonObject().put("name", registry.environment());
    promise.complete(registry.installed() ? Status.OK(data) : Status.KO(data.put("reason", "closed")));
  }

  private static void nested(HealthChecks checks, Promise<Status> promise) {
    checks.checkStatus().onComplete(ar -> {
      if (ar.failed()) {
        promise.fail(ar.cause());
        return;
      }
      CheckResult result = ar.result();
      JsonObject json = result.toJson();
      promise.complete(new Status().setOk(Boolean.TRUE.equals(result.getUp()))
        .setData(new JsonObject().put("checks", json.getValue("checks"))));
    });
  }

  private static JsonObject instances(ServiceOps ops) {
    JsonObject data = new JsonObject();
    Map<ServiceOps.TaskState, Integer> counts = ops.counts();
    data.put("running", counts.get(ServiceOps.TaskState.RUNNING))
      .put("starting", counts.get(ServiceOps.TaskState.STARTING))
      .put("stopping", counts.get(ServiceOps.TaskState.STOPPING));
    return data;
  }

  private void live(ServiceRegistry.Registration registration, Promise<Status> promise) {
    ServiceOps ops = registration.ops();
    if (ops == null || !registry.installed()) {
      promise.complete(Status.KO(new JsonObject().put("reason", "the environment is closed")));
      return;
    }
    JsonObject data = instances(ops);
    List<Future<Void>> pings = new ArrayList<>();
    for (Context loop : ops.runningLoops()) {
      Promise<Void> answered = Promise.promise();
      loop.runOnContext(v -> answered.complete());
      pings.add(answered.future());
    }
    Future.all(pings).onComplete(ar -> promise.complete(Status.OK(data)));
  }

  private void ready(ServiceRegistry.Registration registration, Promise<Status> promise) {
    ServiceOps ops = registration.ops();
    if (ops == null || !registry.installed()) {
      promise.complete(Status.KO(new JsonObject().put("reason", "the environment is closed")));
      return;
    }
    JsonObject data = instances(ops);
    List<String> why = new ArrayList<>();
    if (data.getInteger("starting") > 0) {
      why.add("deploying");
    }
    if (data.getInteger("stopping") > 0) {
      why.add("stopping");
    }
    CircuitBreakerState circuit = ops.circuitState();
    if (circuit != null) {
      data.put("circuit", circuit.name());
      if (circuit != CircuitBreakerState.CLOSED) {
        why.add("circuit breaker " + circuit.name().toLowerCase().replace('_', '-'));
      }
    }
    if (why.isEmpty()) {
      promise.complete(Status.OK(data));
    } else {
      promise.complete(Status.KO(data.put("reason", String.join(", ", why))));
    }
  }

  /**
   * {@return the Vertx the checks run on}
   */
  public Vertx vertx() {
    return vertx;
  }
}
