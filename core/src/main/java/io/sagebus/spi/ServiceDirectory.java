package io.sagebus.spi;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

/**
 * Knows the services registered in an environment beyond this JVM (a cluster keeps them in a
 * distributed map), so that a client that finds no consumer for a service registered elsewhere
 * waits for one instead of failing with {@link io.sagebus.ServiceNotFoundException}. Installed in
 * the Vertx's local shared data under the environment name.
 */
public interface ServiceDirectory extends Shareable {

  /** Name of the local map holding one directory per environment. */
  String MAP_NAME = "sagebus.directories";

  /**
   * {@return whether the service is registered anywhere in the environment}
   *
   * @param service a service name
   */
  Future<Boolean> isRegistered(String service);

  /**
   * Asks for a replica of a registered service that a call found none of: a cluster whose service
   * autoscales down to none starts one (see {@link io.sagebus.AutoscalePolicy}). The call waits for
   * the replica's consumer within its own budget, as for any service being placed.
   *
   * @param service a service name
   * @return completion of the ask (not of the replica's start); the default asks nobody
   */
  default Future<Void> requestReplica(String service) {
    return Future.succeededFuture();
  }

  /**
   * Installs a directory for an environment of a Vertx; one installed already stays.
   *
   * @param vertx       the Vertx
   * @param environment the environment name
   * @param directory   the directory
   * @return the directory installed now: {@code directory} or the one that was there
   */
  static ServiceDirectory install(Vertx vertx, String environment, ServiceDirectory directory) {
    ServiceDirectory prev = map(vertx).putIfAbsent(environment, directory);
    return prev != null ? prev : directory;
  }

  /**
   * Removes a directory, if it is the one installed.
   *
   * @param vertx       the Vertx
   * @param environment the environment name
   * @param directory   the directory
   */
  static void uninstall(Vertx vertx, String environment, ServiceDirectory directory) {
    map(vertx).removeIfPresent(environment, directory);
  }

  /**
   * {@return the directory installed for an environment, or {@code null}}
   *
   * @param vertx       the Vertx
   * @param environment the environment name
   */
  static ServiceDirectory lookup(Vertx vertx, String environment) {
    return map(vertx).get(environment);
  }

  private static LocalMap<String, ServiceDirectory> map(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP_NAME);
  }
}
