package io.sagebus.impl.service;

import io.sagebus.EnvironmentOptions;
import io.sagebus.ServiceStats;
import io.sagebus.impl.Deployments;
import io.sagebus.impl.registry.ServiceRegistry;
import io.sagebus.spi.ServicePlacement;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Deploys an environment's services: each one's instances in this JVM (all or none), or through
 * the cluster's {@link ServicePlacement} for the services it places. Tracks who holds each
 * deployed service (the user, or a job), so that a job's services stop when the last holder
 * releases them. Not thread-safe: its owner calls it from one context.
 */
public final class ServiceDeployer {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceDeployer.class);
  /** The holder of deployments asked for by the user (start, deploy, a first call), who also undeploys them. */
  public static final String USER = "user";

  private final Vertx vertx;
  private final ServiceRegistry registry;
  private final ServicePlacement placement;
  private final Map<String, Deployed> deployed = new HashMap<>();

  /**
   * A deployer.
   *
   * @param vertx     the Vertx
   * @param registry  the environment's services
   * @param placement the cluster's placement, or {@code null} in a single JVM
   */
  public ServiceDeployer(Vertx vertx, ServiceRegistry registry, ServicePlacement placement) {
    this.vertx = vertx;
    this.registry = registry;
    this.placement = placement;
  }

  /**
   * Deploys a service for a holder; a service deployed already, or deploying, only gains the holder.
   *
   * @param reg    the service
   * @param holder who needs it
   * @return the number of instances running once their consumers are registered
   */
  public Future<Integer> deploy(ServiceRegistry.Registration reg, String holder) {
    String name = reg.definition().name();
    Deployed existing = deployed.get(name);
    if (existing != null) {
      existing.holders.add(holder);
      return existing.ready;
    }
    Deployed d = new Deployed();
    d.holders.add(holder);
    deployed.put(name, d);
    if (placement != null && placement.places(reg.definition())) {
      d.placed = true;
      d.ready = placement.deploy(reg.definition()).recover(e -> {
        deployed.remove(name, d);
        return Future.failedFuture(e);
      });
      return d.ready;
    }
    int n = reg.definition().options().getInstances();
    List<ServiceTask> made = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      made.add(new ServiceTask(new ServiceInstance(registry.environment(), reg.definition(), i, reg.metrics(), registry)));
    }
    d.tasks.addAll(made);
    d.ready = Deployments.deployAllOrNone(vertx, made,
        new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD))
      .transform(ar -> {
        if (ar.succeeded()) {
          d.ids.addAll(ar.result());
          LOG.debug("Deployed service '{}' in environment '{}': {} instance(s)", name, registry.environment(), n);
          return Future.succeededFuture(n);
        }
        deployed.remove(name, d);
        LOG.warn("Deploying service '{}' failed; the instances that started were undeployed", name, ar.cause());
        return Future.failedFuture(ar.cause());
      });
    return d.ready;
  }

  /**
   * {@return the deployment under way or done of a service, or {@code null} when nothing deployed it}
   *
   * @param service a service name
   */
  public Future<Integer> deploying(String service) {
    Deployed d = deployed.get(service);
    return d == null ? null : d.ready;
  }

  /**
   * A holder no longer needs its services: those nobody else holds are undeployed.
   *
   * @param holder who needed them
   * @return how many services were undeployed
   */
  public Future<Integer> release(String holder) {
    List<Future<Integer>> undeploys = new ArrayList<>();
    for (Map.Entry<String, Deployed> e : new ArrayList<>(deployed.entrySet())) {
      if (e.getValue().holders.remove(holder) && e.getValue().holders.isEmpty()) {
        undeploys.add(e.getValue().ready.transform(ar -> undeploy(e.getKey())));
      }
    }
    return Future.join(undeploys).transform(ar -> Future.succeededFuture(undeploys.size()));
  }

  /**
   * Undeploys a service, whoever holds it; a deploy under way finishes first, so no instance
   * starts after its service was undeployed.
   *
   * @param service a service name
   * @return the number of instances undeployed
   */
  public Future<Integer> undeploy(String service) {
    Deployed d = deployed.remove(service);
    if (d == null) {
      return Future.succeededFuture(0);
    }
    if (d.placed) {
      return d.ready.transform(ar -> placement.undeploy(service));
    }
    // A roll under way stops after its step (it sees the service gone): then every instance goes, old or new.
    Future<Void> rolling = d.rolling;
    return d.ready.transform(ar -> rolling).transform(ar -> {
      List<String> ids = List.copyOf(d.ids);
      return Deployments.undeployAll(vertx, ids).map(v -> ids.size());
    });
  }

  /**
   * Replaces the running instances of a service with instances of its registration now (a redeploy),
   * one at a time: a new instance's consumer is registered before an old one leaves; the old one then
   * refuses every call that reaches it, and every call queued in it, with LEAVING (its callers send
   * them again to another instance), and stops as an undeploy stops it, draining its executing calls.
   * In a cluster the service's placement replaces the replicas it placed. A service not running is
   * left so: the next deploy starts the new registration. Rolls of one service run one after another.
   *
   * @param reg the service's registration now
   * @return the number of instances running once the last old one has stopped; fails when a new
   *     instance cannot start (those started, new and old, keep running)
   */
  public Future<Integer> redeploy(ServiceRegistry.Registration reg) {
    String name = reg.definition().name();
    Deployed d = deployed.get(name);
    if (d == null) {
      return Future.succeededFuture(0);
    }
    ContextInternal owner = (ContextInternal) vertx.getOrCreateContext();
    Future<Void> previous = d.rolling;
    Future<Integer> roll = d.ready.transform(ar -> previous).transform(ar -> {
      if (deployed.get(name) != d) {
        return Future.succeededFuture(0); // undeployed meanwhile
      }
      if (d.placed) {
        return placement.redeploy(reg.definition());
      }
      return roll(owner, name, d, reg);
    });
    d.rolling = roll.<Void>mapEmpty().recover(e -> Future.succeededFuture());
    return roll;
  }

  /** Replaces a service's instances in this JVM, one at a time; its steps go on on the owner's context. */
  private Future<Integer> roll(ContextInternal owner, String name, Deployed d, ServiceRegistry.Registration reg) {
    int wanted = reg.definition().options().getInstances();
    List<ServiceTask> oldTasks = new ArrayList<>(d.tasks);
    List<String> oldIds = new ArrayList<>(d.ids);
    int steps = Math.max(wanted, oldIds.size());
    LOG.info("Environment '{}': redeploying service '{}': {} instance(s) replaced by {}, one at a time",
      registry.environment(), name, oldIds.size(), wanted);
    reg.rollBegins();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < steps; i++) {
      int step = i;
      chain = chain.compose(v -> {
        if (deployed.get(name) != d) {
          return Future.succeededFuture(); // undeployed meanwhile: the undeploy takes every instance
        }
        Future<Void> added = step < wanted ? onOwner(owner, startOne(d, reg, step)) : Future.succeededFuture();
        return added.compose(x -> step < oldIds.size()
          ? onOwner(owner, retire(d, oldTasks.get(step), oldIds.get(step))) : Future.succeededFuture());
      });
    }
    return chain.transform(ar -> {
      reg.rollEnds();
      if (ar.failed()) {
        LOG.warn("Environment '{}': redeploying service '{}' stopped: {}; {} instance(s) run", registry.environment(),
          name, ar.cause().toString(), d.ids.size());
        return Future.failedFuture(ar.cause());
      }
      LOG.info("Environment '{}': redeployed service '{}': {} instance(s) run", registry.environment(), name,
        d.ids.size());
      return Future.succeededFuture(d.ids.size());
    });
  }

  /** {@return the same outcome, reported on the deployer's owner context, where its state is changed} */
  private static <T> Future<T> onOwner(ContextInternal owner, Future<T> future) {
    Promise<T> promise = owner.promise();
    future.onComplete(promise);
    return promise.future();
  }

  /** Starts one instance of a roll (a top-level deployment, as a deploy's); {@return completes once its consumer is registered} */
  private Future<Void> startOne(Deployed d, ServiceRegistry.Registration reg, int index) {
    ServiceTask task = new ServiceTask(new ServiceInstance(registry.environment(), reg.definition(), index,
      reg.metrics(), registry));
    return Deployments.deployDetached(vertx, task,
        new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD))
      .map(id -> {
        d.tasks.add(task);
        d.ids.add(id);
        return null;
      });
  }

  /** Has an old instance of a roll leave, then undeploys it; never fails (a failed undeploy is logged). */
  private Future<Void> retire(Deployed d, ServiceTask task, String id) {
    task.instance().leave();
    d.tasks.remove(task);
    d.ids.remove(id);
    return vertx.undeploy(id).recover(e -> {
      LOG.warn("Environment '{}': undeploying a replaced instance of '{}' failed", registry.environment(),
        task.instance().address(), e);
      return Future.succeededFuture();
    });
  }

  /**
   * Undeploys every service.
   *
   * @return completed when all have been undeployed
   */
  public Future<?> undeployAll() {
    List<Future<Integer>> all = new ArrayList<>();
    for (String name : new ArrayList<>(deployed.keySet())) {
      all.add(undeploy(name));
    }
    return Future.join(all);
  }

  /**
   * {@return {@code {"services": [{"name", "type", "running", "options"}]}}}
   */
  public JsonObject list() {
    JsonArray services = new JsonArray();
    for (String name : registry.names()) {
      ServiceRegistry.Registration reg = registry.get(name);
      services.add(new JsonObject()
        .put("name", name)
        .put("type", reg.definition().typeName())
        .put("running", running(name))
        .put("options", reg.definition().options().toJson()));
    }
    return new JsonObject().put("services", services);
  }

  private int running(String name) {
    Deployed d = deployed.get(name);
    return d == null ? 0 : d.placed ? placement.placed(name) : d.ids.size();
  }

  /**
   * {@return the service's statistics in this JVM, with its instances' calls in flight and queued}
   *
   * @param reg a service
   */
  public ServiceStats stats(ServiceRegistry.Registration reg) {
    Deployed d = deployed.get(reg.definition().name());
    int inFlight = 0;
    int queued = 0;
    if (d != null) {
      for (ServiceTask t : d.tasks) {
        inFlight += t.instance().inFlight();
        queued += t.instance().queued();
      }
    }
    return reg.metrics().snapshot(reg.definition().name(), running(reg.definition().name()), inFlight, queued);
  }

  /**
   * A call found no instance of a registered service: one that is deploying is waited for; one
   * that nothing deployed starts now for the user, unless the environment does not start services
   * on their first call ({@link EnvironmentOptions#isStartOnCall()}).
   *
   * @param reg the service
   * @return the number of instances running, or a {@link NotStarted} failure
   */
  public Future<Integer> startOnCall(ServiceRegistry.Registration reg) {
    Deployed existing = deployed.get(reg.definition().name());
    if (existing != null) {
      return existing.ready;
    }
    if (!registry.options().isStartOnCall()) {
      return Future.failedFuture(new NotStarted("Service '" + reg.definition().name() + "' is registered but not "
        + "running, and this environment does not start services on their first call: call env.start() or env.deploy(\""
        + reg.definition().name() + "\") first"));
    }
    return deploy(reg, USER);
  }

  /** The environment does not start services on their first call. */
  public static final class NotStarted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotStarted(String message) {
      super(message, null, false, false);
    }
  }

  /** The instances of one deployed service. */
  private static final class Deployed {
    final List<ServiceTask> tasks = new ArrayList<>();
    final List<String> ids = new ArrayList<>();
    final Set<String> holders = new HashSet<>();
    /** Deployed by the environment's {@link ServicePlacement}, not as tasks of this JVM. */
    boolean placed;
    Future<Integer> ready;
    /** The last roll of its instances (a redeploy), completed (never failed) once it ended. */
    Future<Void> rolling = Future.succeededFuture();
  }
}
