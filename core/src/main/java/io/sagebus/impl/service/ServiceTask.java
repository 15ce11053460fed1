package io.sagebus.impl.service;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/**
 * The verticle of one instance that the {@link ServiceDeployer} deploys: a shell over its
 * {@link ServiceInstance}, as {@link io.sagebus.ServiceTaskVerticle} is for code that deploys one by hand.
 */
final class ServiceTask extends VerticleBase {

  private final ServiceInstance instance;

  ServiceTask(ServiceInstance instance) {
    this.instance = instance;
  }

  ServiceInstance instance() {
    return instance;
  }

  @Override
  public Future<?> start() {
    return instance.start(vertx, context);
  }

  @Override
  public Future<?> stop() {
    return instance.stop();
  }
}
