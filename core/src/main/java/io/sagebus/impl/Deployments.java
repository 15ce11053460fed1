package io.sagebus.impl;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

  private static final Logger LOG = LoggerFactory.getLogger(Deployments.class);

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

  /**
   * Deploys verticles as top-level deployments, all or none: when one fails to start, those that
   * started are undeployed again (failures to undeploy are logged) and the first failure is returned.
   *
   * @param vertx     the Vertx
   * @param verticles the verticles
   * @param options   their deployment options
   * @return the deployment ids, in the order of {@code verticles}
   */
  public static Future<List<String>> deployAllOrNone(Vertx vertx, List<? extends Deployable> verticles,
                                                     DeploymentOptions options) {
    List<Future<String>> starts = new ArrayList<>(verticles.size());
    for (Deployable v : verticles) {
      starts.add(deployDetached(vertx, v, options));
    }
    return Future.join(starts).transform(ignored -> {
      List<String> ids = new ArrayList<>(starts.size());
      Throwable failure = null;
      for (Future<String> f : starts) {
        if (f.succeeded()) {
          ids.add(f.result());
        } else if (failure == null) {
          failure = f.cause();
        }
      }
      if (failure == null) {
        return Future.succeededFuture(ids);
      }
      Throwable cause = failure;
      LOG.debug("A deployment of {} verticle(s) failed; undeploying the {} that started", starts.size(), ids.size(),
        cause);
      return undeployAll(vertx, ids).transform(x -> Future.failedFuture(cause));
    });
  }

  /**
   * Undeploys deployments, each one whatever becomes of the others; a failure is logged, and ids
   * that are no longer deployed (Vert.x closing undeploys everything) are skipped.
   *
   * @param vertx the Vertx
   * @param ids   deployment ids
   * @return completed when every undeploy has ended
   */
  public static Future<Void> undeployAll(Vertx vertx, List<String> ids) {
    List<Future<Void>> stops = new ArrayList<>(ids.size());
    for (String id : ids) {
      if (!vertx.deploymentIDs().contains(id)) {
        continue;
      }
      stops.add(vertx.undeploy(id).onFailure(e -> LOG.warn("Undeploying {} failed", id, e)));
    }
    return Future.join(stops).mapEmpty();
  }
}
