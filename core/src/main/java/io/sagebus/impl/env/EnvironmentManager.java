package io.sagebus.impl.env;

import io.sagebus.FailureCode;
import io.sagebus.Job;
import io.sagebus.JobOptions;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceNotFoundException;
import io.sagebus.impl.job.JobImpl;
import io.sagebus.impl.job.JobManager;
import io.sagebus.impl.pipeline.LogicalNode;
import io.sagebus.impl.pipeline.PipelineCompiler;
import io.sagebus.impl.registry.ServiceRegistry;
import io.sagebus.impl.service.ServiceDeployer;
import io.sagebus.impl.wire.Protocol;
import io.sagebus.spi.ServicePlacement;
import io.vertx.core.Closeable;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The manager of one environment, behind {@link io.sagebus.DeploymentManagerVerticle}: its
 * {@link JobManager} runs jobs, its {@link ServiceDeployer} deploys services, and it answers the
 * manager's bus protocol on the local-only address {@code sagebus.<env>.manager}. Requests on
 * that address run on this verticle's context, one after another, so the deployer's state needs
 * no lock.
 */
public final class EnvironmentManager extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(EnvironmentManager.class);
  /** Deploys may run user setup code that blocks; requests to the manager wait this long. */
  public static final long MANAGER_TIMEOUT_MS = 10 * 60 * 1000L;

  private final ServiceRegistry registry;
  private final ServicePlacement placement;
  private ServiceDeployer deployer;
  private JobManager jobs;
  private MessageConsumer<JsonObject> consumer;
  private long consumerKey;
  private Closeable closeHook;

  /**
   * A manager.
   *
   * @param registry  the environment's services
   * @param placement the cluster's placement, handed in by the cluster environment; {@code null} in a single JVM
   */
  public EnvironmentManager(ServiceRegistry registry, ServicePlacement placement) {
    this.registry = registry;
    this.placement = placement;
  }

  /** {@return the environment's services} */
  public ServiceRegistry registry() {
    return registry;
  }

  /**
   * Compiles and runs a job; see {@link JobManager#submit}.
   *
   * @param nodes   the operators built since the last submit
   * @param options the job's limits
   * @param client  the client its operators call with
   * @return the running job
   */
  public Future<Job> submit(List<LogicalNode> nodes, JobOptions options, ServiceClient client) {
    if (jobs == null) {
      return Future.failedFuture(new IllegalStateException("The manager of environment '" + registry.environment()
        + "' is not started"));
    }
    return jobs.submit(nodes, options, client);
  }

  /** {@return the running jobs and the last finished ones} */
  public List<Job> jobs() {
    return jobs == null ? List.of() : jobs.jobs();
  }

  /**
   * {@return the job of that id, or {@code null}}
   *
   * @param id a job id
   */
  public Job job(String id) {
    return jobs == null ? null : jobs.job(id);
  }

  @Override
  public Future<?> start() {
    String env = registry.environment();
    registry.install(vertx);
    registry.startsOnCall(placement == null);
    deployer = new ServiceDeployer(vertx, registry, placement);
    jobs = new JobManager(vertx, registry, new Lease(), placement == null ? env : placement.jobIdPrefix(env));
    // Closing the Vertx undeploys every top-level deployment at once, this manager and its service tasks
    // alike, while this manager's stop undeploys those tasks too: one side then fails with "Already
    // undeployed" or "Unknown deployment". Close hooks run before that, so the hook undeploys the manager
    // first, and the manager stops its jobs and services in its own order.
    String deploymentId = context.deploymentID();
    closeHook = completion -> vertx.undeploy(deploymentId).onComplete(ar -> {
      if (ar.failed()) {
        LOG.debug("Undeploying the deployment manager of '{}' on close", env, ar.cause());
      }
      completion.succeed();
    });
    ((VertxInternal) vertx).addCloseHook(closeHook);
    consumer = vertx.eventBus().localConsumer(Protocol.managerAddress(env), this::handle);
    consumerKey = registry.tracker().opened("consumer", Protocol.managerAddress(env));
    return consumer.completion();
  }

  private void handle(Message<JsonObject> message) {
    JsonObject body = message.body();
    String action = body == null ? null : body.getString("action");
    String service = body == null ? null : body.getString("service");
    String owner = body == null ? null : body.getString("owner", ServiceDeployer.USER);
    if ("list".equals(action)) {
      message.reply(deployer.list());
      return;
    }
    if ("release".equals(action)) {
      deployer.release(owner).onComplete(ar ->
        message.reply(new JsonObject().put("owner", owner).put("undeployed", ar.result())));
      return;
    }
    if (!"deploy".equals(action) && !"undeploy".equals(action) && !"stats".equals(action) && !"start".equals(action)
      && !"redeploy".equals(action)) {
      Protocol.fail(message, FailureCode.BAD_REQUEST, "BadRequest", "Unknown action '" + action
        + "': use deploy, undeploy, redeploy, release, list, stats or start", new JsonArray());
      return;
    }
    ServiceRegistry.Registration reg = service == null ? null : registry.get(service);
    if (reg == null) {
      Protocol.fail(message, FailureCode.BAD_REQUEST, ServiceNotFoundException.class.getName(),
        "No service '" + service + "' is registered; registered: " + registry.names(), new JsonArray());
      return;
    }
    switch (action) {
      case "deploy" -> answerDeployed(message, service, deployer.deploy(reg, owner));
      case "start" -> answerDeployed(message, service, deployer.startOnCall(reg));
      case "redeploy" -> answerDeployed(message, service, deployer.redeploy(reg));
      case "undeploy" -> deployer.undeploy(service).onComplete(ar ->
        message.reply(new JsonObject().put("service", service).put("undeployed", ar.result())));
      default -> message.reply(deployer.stats(reg).toJson());
    }
  }

  private static void answerDeployed(Message<JsonObject> message, String service, Future<Integer> deployed) {
    deployed.onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(new JsonObject().put("service", service).put("instances", ar.result()));
      } else if (ar.cause() instanceof ServiceDeployer.NotStarted) {
        Protocol.fail(message, FailureCode.NOT_STARTED, FailureCode.NOT_STARTED.name(), ar.cause().getMessage(),
          new JsonArray());
      } else {
        Protocol.fail(message, FailureCode.SERVICE_ERROR, ar.cause().getClass().getName(),
          String.valueOf(ar.cause().getMessage()), Protocol.stackOf(ar.cause()));
      }
    });
  }

  /** A job's services, deployed and released through this manager's own bus actions (so on its context). */
  private final class Lease implements JobImpl.ServiceLease {
    @Override
    public Future<Void> acquire(String jobId, List<PipelineCompiler.ServicePlan> services) {
      List<Future<Object>> deploys = new ArrayList<>();
      for (PipelineCompiler.ServicePlan plan : services) {
        deploys.add(vertx.eventBus().request(Protocol.managerAddress(registry.environment()),
          new JsonObject().put("action", "deploy").put("service", plan.name()).put("owner", jobId),
          new DeliveryOptions().setSendTimeout(MANAGER_TIMEOUT_MS)).map(m -> m.body()));
      }
      return Future.all(deploys).mapEmpty();
    }

    @Override
    public Future<Void> release(String jobId) {
      return vertx.eventBus().request(Protocol.managerAddress(registry.environment()),
        new JsonObject().put("action", "release").put("owner", jobId),
        new DeliveryOptions().setSendTimeout(MANAGER_TIMEOUT_MS)).mapEmpty();
    }
  }

  @Override
  public Future<?> stop() {
    ((VertxInternal) vertx).removeCloseHook(closeHook);
    return jobs.cancelAll().transform(ar -> {
      Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
      return unregistered.eventually(() -> {
        registry.tracker().closed(consumerKey);
        return deployer.undeployAll();
      }).eventually(() -> {
        registry.uninstall(vertx);
        return Future.succeededFuture();
      });
    });
  }
}
