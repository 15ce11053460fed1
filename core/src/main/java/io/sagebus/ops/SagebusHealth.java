package io.sagebus.ops;

import io.sagebus.Environment;
import io.sagebus.Job;
import io.sagebus.JobProgress;
import io.sagebus.JobStatus;
import io.sagebus.impl.ops.Operations;
import io.sagebus.impl.ops.ServiceOps;
import io.sagebus.impl.registry.ServiceRegistry;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Liveness and readiness of an environment's services in this JVM (this node), as
 * vertx-health-check {@link HealthChecks}, ready to be served by vertx-web's
 * {@code HealthCheckHandler.createWithHealthChecks(...)} under {@code /health/live},
 * {@code /health/ready} and {@code /health} ({@link #all()}).
 * <p>
 * Procedures (services registered, deployed or called later get theirs then):
 * <ul>
 *   <li>liveness {@code environment}: UP while the environment is open (when there is an
 *       environment object in this JVM; a node holding only replicas has no such procedure);</li>
 *   <li>liveness {@code services/<name>}: UP when the event loop of each running instance of
 *       the service here answers within the procedure's timeout (1 s);</li>
 *   <li>readiness {@code environment}: as in liveness;</li>
 *   <li>readiness {@code services/<name>}: DOWN while an instance here is deploying or stopping,
 *       and while the callers' circuit breaker here is open or half-open; UP otherwise (also
 *       when no instance runs here). Data: {@code running}, {@code starting}, {@code stopping},
 *       {@code circuit} (when the service has a breaker).</li>
 * </ul>
 * With an {@link Environment} object, {@link #all()} also has the procedure {@code jobs}: every
 * job the environment keeps (running, and the last 100 finished) with its status and progress;
 * DOWN while one of them has failed (readiness is not affected: a failed job does not stop the
 * node from taking calls).
 * <p>
 * More procedures are registered on the checks themselves, for instance
 * {@code health.readiness().register("jobs/" + id, promise -> ...)}; {@link #all()} shows them too.
 * The node is UP when every procedure is.
 */
public final class SagebusHealth {

  private final String environment;
  private final ServiceRegistry registry;
  private final Operations operations;
  private final Set<String> services = new HashSet<>();
  private final HealthChecks liveness;
  private final HealthChecks readiness;
  private final HealthChecks all;

  private SagebusHealth(Vertx vertx, String environment, ServiceRegistry registry, Environment env) {
    this.environment = environment;
    this.registry = registry;
    this.operations = Operations.of(vertx);
    this.liveness = HealthChecks.create(vertx);
    this.readiness = HealthChecks.create(vertx);
    this.all = HealthChecks.create(vertx);
    if (registry != null) {
      liveness.register("environment", this::environmentOpen);
      readiness.register("environment", this::environmentOpen);
      registry.onRegister(reg -> add(reg.definition().name()));
      registry.names().forEach(this::add);
    }
    all.register("live", promise -> nested(liveness, promise));
    all.register("ready", promise -> nested(readiness, promise));
    if (env != null) {
      all.register("jobs", promise -> jobs(env, promise));
    }
    operations.onService(ops -> {
      if (ops.environment().equals(environment)) {
        add(ops.service());
      }
    });
    operations.services(environment).forEach(this::add);
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
    return new SagebusHealth(environment.vertx(), environment.name(), registry, environment);
  }

  /**
   * Makes the health checks of the services of an environment that run in {@code vertx}, for a
   * node that holds replicas without an {@link Environment} object (deployed by a node agent or by
   * hand): every service of that environment registered, deployed or called in this Vertx gets its
   * procedures. When an environment of that name is open in {@code vertx}, this is
   * {@link #create(Environment)}.
   * <p>
   * Make one per environment and keep it.
   *
   * @param vertx       the Vertx the replicas run in
   * @param environment the environment name
   * @return the health checks
   */
  public static SagebusHealth create(Vertx vertx, String environment) {
    return new SagebusHealth(vertx, environment, ServiceRegistry.lookup(vertx, environment), null);
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

  private synchronized void add(String service) {
    if (services.add(service)) {
      liveness.register("services/" + service, promise -> live(service, promise));
      readiness.register("services/" + service, promise -> ready(service, promise));
    }
  }

  /**
   * The service's state here; when there is none to check (the environment closed, or nothing of
   * the service here), completes the promise itself and returns {@code null}.
   */
  private ServiceOps state(String service, Promise<Status> promise) {
    if (registry != null && !registry.installed()) {
      promise.complete(Status.KO(new JsonObject().put("reason", "the environment is closed")));
      return null;
    }
    ServiceOps ops = operations.find(environment, service);
    if (ops == null) {
      promise.complete(Status.OK(new JsonObject().put("running", 0).put("starting", 0).put("stopping", 0)));
    }
    return ops;
  }

  private void environmentOpen(Promise<Status> promise) {
    JsonObject data = new JsonObject().put("name", registry.environment());
    promise.complete(registry.installed() ? Status.OK(data) : Status.KO(data.put("reason", "closed")));
  }

  /** The environment's jobs: each with its status and progress; DOWN while a kept job has failed. */
  private static void jobs(Environment env, Promise<Status> promise) {
    JsonObject counts = new JsonObject();
    JsonArray list = new JsonArray();
    boolean failed = false;
    for (Job job : env.jobs()) {
      JobProgress p = job.progress();
      String status = p.status().name().toLowerCase(Locale.ROOT);
      counts.put(status, counts.getInteger(status, 0) + 1);
      failed |= p.status() == JobStatus.FAILED;
      list.add(new JsonObject().put("id", p.jobId()).put("status", p.status().name())
        .put("sinkRecords", p.sinkRecords()).put("total", p.total()).put("failedRecords", p.failedRecords()));
    }
    JsonObject data = new JsonObject().put("counts", counts).put("jobs", list);
    promise.complete(failed ? Status.KO(data.put("reason", "a job failed")) : Status.OK(data));
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

  private void live(String service, Promise<Status> promise) {
    ServiceOps ops = state(service, promise);
    if (ops == null) {
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

  private void ready(String service, Promise<Status> promise) {
    ServiceOps ops = state(service, promise);
    if (ops == null) {
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
        why.add("circuit breaker " + circuit.name().toLowerCase(Locale.ROOT).replace('_', '-'));
      }
    }
    if (why.isEmpty()) {
      promise.complete(Status.OK(data));
    } else {
      promise.complete(Status.KO(data.put("reason", String.join(", ", why))));
    }
  }
}
