package io.sagebus;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;

/**
 * What a service instance knows about where it runs. Handed to
 * {@link ServiceLifecycle#setup(ServiceContext)}, or to a service class's constructor that takes
 * a {@code ServiceContext}.
 */
public interface ServiceContext {

  /**
   * {@return the service name}
   */
  String name();

  /**
   * {@return the name of the environment the service belongs to}
   */
  String environment();

  /**
   * {@return the index of this instance, from 0 to {@code instances - 1}}
   */
  int instanceIndex();

  /**
   * {@return the event-bus address the instance consumes}
   */
  String address();

  /**
   * {@return a copy of the configuration given in {@link ServiceOptions#getConfig()}}
   */
  JsonObject config();

  /**
   * {@return a logger named after the service}
   */
  Logger logger();

  /**
   * A client to call other services of the same environment. A call made while a call to this
   * service is executing inherits what is left of that call's budget.
   *
   * @return the environment's service client
   */
  ServiceClient services();

  /**
   * {@return the Vert.x instance the service runs on}
   */
  Vertx vertx();
}
