package io.sagebus.samples;

import io.sagebus.DeploymentManagerVerticle;
import io.sagebus.EnvironmentOptions;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceOptions;
import io.sagebus.ServiceTaskVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;

/**
 * For code that owns its Vertx (an existing Vert.x application): deploys Sagebus's verticles by
 * hand instead of through a {@link io.sagebus.LocalEnvironment}. A
 * {@link DeploymentManagerVerticle} deploys the {@code profile} service when asked over the event
 * bus; a {@link ServiceTaskVerticle} deployed directly serves {@code greeter}; a
 * {@link ServiceClient} calls both by name.
 * <p>
 * Prints:
 * <pre>
 * deployed: {"service":"profile","instances":1}
 * profile: {"user_id":"u1","score":66}
 * greeter: Hello, Ada!
 * </pre>
 */
public final class ManualDeploySample {

  private ManualDeploySample() {
  }

  /**
   * Runs the sample: deploys the verticles in a new Vertx, calls the services, and closes the Vertx.
   *
   * @param out where the results are printed, one line each
   * @throws io.sagebus.ServiceException when a call fails
   * @throws io.vertx.core.eventbus.ReplyException when the deployment manager refuses the deploy request
   */
  public static void run(PrintStream out) {
    // tag::manual[]
    Vertx vertx = Vertx.vertx();
    try {
      // The deployment manager of environment "manual": services are registered in the JVM
      // (a class never travels on the bus), then deployed on request over the event bus.
      DeploymentManagerVerticle manager = new DeploymentManagerVerticle("manual", new EnvironmentOptions());
      manager.registerService("profile", ProfileService.class, new ServiceOptions());
      vertx.deployVerticle(manager).await();
      JsonObject deployed = vertx.eventBus().<JsonObject>request(DeploymentManagerVerticle.address("manual"),
        new JsonObject().put("action", "deploy").put("service", "profile")).await().body();
      out.println("deployed: " + deployed.encode());

      // One service task, without the manager: it runs service code, so it needs a virtual thread.
      vertx.deployVerticle(new ServiceTaskVerticle("manual", "greeter", GreeterService::new, new ServiceOptions()),
        new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)).await();

      // Any code holding the Vertx calls both by name.
      ServiceClient client = ServiceClient.create(vertx, "manual");
      JsonObject profile = client.call("profile", "u1");
      out.println("profile: " + profile.encode());
      String greeting = client.call("greeter", "Ada");
      out.println("greeter: " + greeting);
    } finally {
      vertx.close().await(); // undeploys the manager, the services it deployed, and the task
    }
    // end::manual[]
  }
}
