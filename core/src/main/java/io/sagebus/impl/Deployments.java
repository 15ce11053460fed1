package io.sagebus.impl;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;

/**
 * Deploys verticles that no other deployment owns.
 * <p>
 * Vert.x makes a verticle deployed from inside another one its child, and undeploys children
 * before their parent's {@code stop()}. Sagebus undeploys in its own order (a job's operators,
 * then its services; a service's calls drained before it stops), so its verticles are deployed
 * from a context of their own.
 */
public final class Deployments {

  private Deployments() {
  }

  /**
   * Deploys a verticle as a top-level deployment, whatever context the caller is on.
   *
   * @param vertx     the Vertx
   * @param verticle  the verticle
   * @param options   its deployment options
   * @return the deployment id
   */
  public static Future<String> deployDetached(Vertx vertx, Deployable verticle, DeploymentOptions options) {
    ContextInternal neutral = ((VertxInternal) vertx).createEventLoopContext();
    Promise<String> deployed = Promise.promise();
    neutral.runOnContext(v -> vertx.deployVerticle(verticle, options).onComplete(deployed));
    return deployed.future();
  }
}
