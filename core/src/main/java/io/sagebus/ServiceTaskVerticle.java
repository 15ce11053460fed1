package io.sagebus;

import io.sagebus.impl.registry.ServiceDefinition;
import io.sagebus.impl.ops.ServiceMetrics;
import io.sagebus.impl.service.ServiceInstance;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;

import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One instance of a service: a verticle consuming the service's event-bus address
 * ({@code sagebus.<env>.service.<name>}), which decodes each request, calls the named method
 * and answers every request exactly once.
 * <p>
 * It must be deployed with {@link ThreadingModel#VIRTUAL_THREAD}; it refuses to start
 * otherwise. Its lifecycle hooks run on that virtual thread. The consumer itself runs on an
 * event loop and only admits requests: an instance runs at most
 * {@link ServiceOptions#getMaxConcurrency()} calls at once and keeps at most
 * {@link ServiceOptions#getMaxQueued()} waiting; beyond that it answers
 * {@link FailureCode#OVERLOADED} at once. A method returning a plain value runs on a virtual
 * thread of its own and may block; a method returning {@code Future} or {@code CompletionStage}
 * runs on the event loop and must not block. A request whose budget
 * (its {@code timeoutMs}) is spent before it starts is answered
 * {@link FailureCode#DEADLINE_EXCEEDED} without running.
 * <p>
 * Undeploying it unregisters the consumer, answers queued calls {@link FailureCode#STOPPING}
 * ({@link FailureCode#LEAVING} after {@link #leave()}),
 * lets executing calls finish within {@link ServiceOptions#getDrainTimeout()} (then answers
 * them STOPPING), and runs {@link ServiceLifecycle#stop()} and {@link ServiceLifecycle#cleanup()}.
 * <p>
 * While it deploys and while it stops, its service is not ready ({@link io.sagebus.ops.SagebusHealth}).
 * When its Vertx has a Micrometer registry it records the service-side meters (requests, errors by
 * code, queue wait and execution time, calls in flight, per method; see README, "Operations").
 * <p>
 * The {@link DeploymentManagerVerticle} deploys these for an environment. Code that owns a Vertx
 * may deploy one by hand:
 * <pre>{@code
 * vertx.deployVerticle(new ServiceTaskVerticle("shop", "echo", EchoService::new, new ServiceOptions()),
 *     new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)).await();
 * }</pre>
 */
public final class ServiceTaskVerticle extends VerticleBase {

  private final ServiceInstance instance;

  /**
   * A task for a service, for deployment by hand (outside a {@link DeploymentManagerVerticle}).
   *
   * @param environment the environment name (part of the address)
   * @param service     the service name
   * @param factory     creates the service object, on the task's virtual thread
   * @param options     limits and drain timeout (copied); {@code instances} is ignored, as each task is one instance
   * @throws IllegalArgumentException when a name is malformed or the factory is null
   */
  public ServiceTaskVerticle(String environment, String service, Supplier<?> factory, ServiceOptions options) {
    this.instance = new ServiceInstance(ServiceDefinition.checkName("environment", environment),
      ServiceDefinition.ofSupplier(service, factory, options), 0, new ServiceMetrics(), null);
  }

  /**
   * A task whose service objects are made from the task's own context, for code that deploys
   * replicas itself (a node agent): the factory gets the real {@link ServiceContext}, with this
   * instance's index.
   *
   * @param environment the environment name (part of the address)
   * @param service     the service name
   * @param factory     creates the service object from this task's context, on its virtual thread
   * @param index       this instance's index ({@link ServiceContext#instanceIndex()}, logs)
   * @param options     limits and drain timeout (copied); {@code instances} is ignored
   * @throws IllegalArgumentException when a name is malformed, the factory is null or the index negative
   */
  public ServiceTaskVerticle(String environment, String service, Function<ServiceContext, ?> factory, int index,
                             ServiceOptions options) {
    this.instance = new ServiceInstance(ServiceDefinition.checkName("environment", environment),
      ServiceDefinition.ofFactory(service, factory, options), checkIndex(index), new ServiceMetrics(), null);
  }

  private static int checkIndex(int index) {
    if (index < 0) {
      throw new IllegalArgumentException("The instance index must be 0 or more, got " + index);
    }
    return index;
  }

  /**
   * {@return the address this task consumes}
   */
  public String address() {
    return instance.address();
  }

  /**
   * {@return calls executing now}
   */
  public int inFlight() {
    return instance.inFlight();
  }

  /**
   * {@return calls waiting for a slot now}
   */
  public int queued() {
    return instance.queued();
  }

  /**
   * Starts a planned leave of this task, for code that moves replicas (a node agent): the consumer
   * stays registered, and from now on every call that reaches the task, queued ones included, is
   * answered {@link FailureCode#LEAVING} without running, which a Sagebus caller sends again at once
   * to another replica; calls executing finish. Undeploy the task once no call has reached it for a
   * while ({@link #refusedLeaving()} stopped growing): calls that reach a consumer already gone are
   * lost in a cluster until their timeout. Calling it twice does nothing more.
   */
  public void leave() {
    instance.leave();
  }

  /**
   * {@return how many calls were refused {@link FailureCode#LEAVING} since {@link #leave()}}
   */
  public int refusedLeaving() {
    return instance.refusedLeaving();
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
