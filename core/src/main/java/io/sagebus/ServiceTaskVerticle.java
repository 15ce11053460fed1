package io.sagebus;

import io.sagebus.impl.CallScope;
import io.sagebus.impl.EnvelopeCodec;
import io.sagebus.impl.Json;
import io.sagebus.impl.Operations;
import io.sagebus.impl.Protocol;
import io.sagebus.impl.ResourceTracker;
import io.sagebus.impl.ServiceDefinition;
import io.sagebus.impl.ServiceMethods;
import io.sagebus.impl.ServiceMetrics;
import io.sagebus.impl.ServiceOps;
import io.sagebus.impl.ServiceRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
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
 * ({@code sagebus-timeout-ms} header) is spent before it starts is answered
 * {@link FailureCode#DEADLINE_EXCEEDED} without running.
 * <p>
 * Undeploying it unregisters the consumer, answers queued calls {@link FailureCode#STOPPING},
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

  private static final Logger LOG = LoggerFactory.getLogger(ServiceTaskVerticle.class);
  /** Replies travel with the envelope codec: by reference in this JVM, as JSON between nodes. */
  private static final DeliveryOptions REPLY = new DeliveryOptions().setCodecName(EnvelopeCodec.NAME);

  private final ServiceDefinition definition;
  private final int index;
  private final ServiceMetrics metrics;
  private final ServiceRegistry registry;
  private final String environment;
  private final String address;

  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<Invocation> queue = new ArrayDeque<>();
  /**
   * Invocations holding a slot, guarded by {@code lock}: an intrusive list (no hashing on the
   * hot path), read only when the drain timeout passes.
   */
  private final Invocation executing = Invocation.sentinel();
  private int active;
  private boolean stopping;
  private Promise<Void> idle;

  private ResourceTracker tracker;
  private ContextInternal loop;
  private MessageConsumer<Object> consumer;
  private long consumerKey;
  private Object instance;
  private ServiceMethods methods;
  private Logger serviceLog;
  private String runnerDescription;
  /** Where this instance's state shows (health) and its meters live. */
  private ServiceOps ops;
  /** Meters by method name, {@code null} when metrics are off; read only on the consumer's event loop. */
  private Map<String, ServiceOps.ServerMeters> meters;

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
    this(ServiceDefinition.checkName("environment", environment), ServiceDefinition.ofSupplier(service, factory, options),
      0, new ServiceMetrics(), null);
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
    this(ServiceDefinition.checkName("environment", environment), ServiceDefinition.ofFactory(service, factory, options),
      checkIndex(index), new ServiceMetrics(), null);
  }

  private static int checkIndex(int index) {
    if (index < 0) {
      throw new IllegalArgumentException("The instance index must be 0 or more, got " + index);
    }
    return index;
  }

  ServiceTaskVerticle(String environment, ServiceDefinition definition, int index, ServiceMetrics metrics,
                      ServiceRegistry registry) {
    this.environment = environment;
    this.definition = definition;
    this.index = index;
    this.metrics = metrics;
    this.registry = registry;
    this.address = Protocol.serviceAddress(environment, definition.name());
  }

  /**
   * {@return the address this task consumes}
   */
  public String address() {
    return address;
  }

  /**
   * {@return calls executing now}
   */
  public int inFlight() {
    lock.lock();
    try {
      return active;
    } finally {
      lock.unlock();
    }
  }

  /**
   * {@return calls waiting for a slot now}
   */
  public int queued() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Future<?> start() {
    if (context.threadingModel() != ThreadingModel.VIRTUAL_THREAD) {
      return startInstance();
    }
    ServiceRegistry reg = registry != null ? registry : ServiceRegistry.lookup(vertx, environment);
    ServiceRegistry.Registration registration = reg == null ? null : reg.get(definition.name());
    ServiceOps found = registration == null ? null : registration.ops();
    ops = found != null ? found : Operations.of(vertx).service(environment, definition.name());
    ops.instance(this, ServiceOps.TaskState.STARTING, null, this::queued);
    Future<?> started;
    try {
      started = startInstance();
    } catch (RuntimeException | Error e) {
      ops.instanceGone(this);
      throw e;
    }
    return started.onComplete(ar -> {
      if (ar.succeeded()) {
        ops.instance(this, ServiceOps.TaskState.RUNNING, loop, this::queued);
      } else {
        ops.instanceGone(this);
      }
    });
  }

  private Future<?> startInstance() {
    if (context.threadingModel() != ThreadingModel.VIRTUAL_THREAD) {
      return Future.failedFuture(new IllegalStateException("ServiceTaskVerticle for '" + definition.name()
        + "' must be deployed with new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)"
        + " (it was deployed as " + context.threadingModel() + "): its service code and hooks may block"));
    }
    ServiceRegistry reg = registry != null ? registry : ServiceRegistry.lookup(vertx, environment);
    tracker = reg != null ? reg.tracker() : new ResourceTracker();
    EnvelopeCodec.register(vertx);
    serviceLog = LoggerFactory.getLogger("io.sagebus.service." + definition.name());
    runnerDescription = "service runner " + definition.name() + " #" + index;
    ServiceContext ctx = new Context(ServiceClient.create(vertx, environment));
    instance = definition.factory().apply(ctx);
    methods = ServiceMethods.of(instance.getClass());
    meters = ops.serverMeters(methods.names());
    if (instance instanceof ServiceLifecycle hooks) {
      try {
        hooks.setup(ctx);
        hooks.start();
      } catch (Exception e) {
        runHook("cleanup", hooks::cleanup);
        return Future.failedFuture(new IllegalStateException("Service '" + definition.name() + "' instance " + index
          + " failed to start: " + e, e));
      }
    }
    loop = ((VertxInternal) vertx).createEventLoopContext();
    Promise<Void> registered = Promise.promise();
    loop.runOnContext(v -> {
      consumer = vertx.eventBus().consumer(address, this::admit);
      consumerKey = tracker.opened("consumer", address + " #" + index);
      consumer.completion().onComplete(registered);
    });
    return registered.future();
  }

  private void admit(Message<Object> message) {
    long received = System.nanoTime();
    metrics.request();
    if (!(message.body() instanceof JsonObject body)) {
      reject(message, meter(null), FailureCode.BAD_REQUEST, "The request body must be a JSON object {\"method\", \"args\"}");
      return;
    }
    String method;
    JsonArray args;
    try {
      method = body.getString(Protocol.METHOD, CallOptions.DEFAULT_METHOD);
      args = body.getJsonArray(Protocol.ARGS, new JsonArray());
    } catch (ClassCastException e) {
      reject(message, meter(null), FailureCode.BAD_REQUEST,
        "Bad request body: 'method' must be a string and 'args' an array");
      return;
    }
    ServiceOps.ServerMeters meter = meter(method);
    long deadline = 0;
    String budget = message.headers().get(Protocol.TIMEOUT_MS);
    if (budget != null) {
      try {
        deadline = received + TimeUnit.MILLISECONDS.toNanos(Math.max(0, Long.parseLong(budget)));
      } catch (NumberFormatException e) {
        reject(message, meter, FailureCode.BAD_REQUEST, "Bad " + Protocol.TIMEOUT_MS + " header: '" + budget + "'");
        return;
      }
    }
    ServiceMethods.Bound bound;
    try {
      bound = methods.bind(method, args);
    } catch (ServiceMethods.CallRejected e) {
      reject(message, meter, e.code(), e.getMessage());
      return;
    }
    Invocation inv = new Invocation(message, method, bound, received, deadline, message.headers().get(Protocol.REQUEST_ID),
      meter);
    ServiceOptions opts = definition.options();
    Admission admission;
    lock.lock();
    try {
      if (stopping) {
        admission = Admission.STOPPING;
      } else if (active + queue.size() >= opts.getMaxConcurrency() + opts.getMaxQueued()) {
        admission = Admission.FULL;
      } else if (active < opts.getMaxConcurrency()) {
        active++;
        executing.link(inv);
        admission = Admission.RUN;
      } else {
        queue.add(inv);
        admission = Admission.QUEUED;
      }
    } finally {
      lock.unlock();
    }
    switch (admission) {
      case RUN -> dispatch(inv);
      case FULL -> reject(message, meter, FailureCode.OVERLOADED, "Service '" + definition.name() + "' instance " + index
        + " is full: " + opts.getMaxConcurrency() + " running, " + opts.getMaxQueued() + " queued");
      case STOPPING -> answerStopping(inv, "it arrived while the service was being undeployed; it did not run");
      case QUEUED -> {
      }
    }
  }

  private enum Admission { RUN, QUEUED, FULL, STOPPING }

  /**
   * {@return the meters of a method the service has, else of {@value ServiceOps#UNKNOWN}, counting the
   * request; {@code null} when metrics are off}
   */
  private ServiceOps.ServerMeters meter(String method) {
    if (meters == null) {
      return null;
    }
    ServiceOps.ServerMeters m = method == null ? null : meters.get(method);
    if (m == null) {
      m = meters.get(ServiceOps.UNKNOWN);
    }
    m.request();
    return m;
  }

  private void reject(Message<Object> message, ServiceOps.ServerMeters meter, FailureCode code, String text) {
    metrics.failed(code);
    if (meter != null) {
      meter.error(code);
    }
    Protocol.fail(message, code, code.name(), text, new JsonArray());
  }

  /** Runs an invocation that holds a slot, on the thread its method needs. */
  private void dispatch(Invocation inv) {
    if (inv.bound.target().kind() == ServiceMethods.Kind.BLOCKING) {
      long key = tracker.opened("thread", runnerDescription);
      context.executeBlocking(() -> {
        runBlocking(inv, key);
        return null;
      }, false);
    } else if (onLoop()) {
      runOnLoop(inv);
    } else {
      loop.runOnContext(v -> runOnLoop(inv));
    }
  }

  /** @return whether this thread runs {@code loop} now (the consumer's handler runs on a duplicate of it) */
  private boolean onLoop() {
    ContextInternal current = ContextInternal.current();
    return current != null && current.unwrap() == loop && loop.inThread();
  }

  /** On a virtual thread: runs blocking invocations one after another while work is queued. */
  private void runBlocking(Invocation first, long threadKey) {
    Invocation inv = first;
    while (inv != null) {
      if (inv.bound.target().kind() != ServiceMethods.Kind.BLOCKING) {
        Invocation async = inv;
        tracker.closed(threadKey);
        loop.runOnContext(v -> runOnLoop(async));
        return;
      }
      if (!deadlinePassed(inv)) {
        inv.thread = Thread.currentThread();
        long start = System.nanoTime();
        if (inv.meters != null) {
          inv.meters.started(start - inv.received);
        }
        CallScope previous = CallScope.enter(new CallScope(definition.name(), inv.requestId, inv.deadline));
        if (inv.requestId != null) {
          MDC.put(Protocol.REQUEST_ID, inv.requestId);
        }
        Object result = null;
        Throwable error = null;
        try {
          result = inv.bound.invoke(instance);
        } catch (Throwable t) {
          error = t;
        } finally {
          MDC.remove(Protocol.REQUEST_ID);
          CallScope.restore(previous);
          inv.thread = null;
          Thread.interrupted();
        }
        // Counted as ended before the answer leaves: a caller that has its answer never sees the call in flight.
        if (inv.meters != null) {
          inv.meters.ended(System.nanoTime() - start);
        }
        if (error == null) {
          answer(inv, result, start);
        } else {
          answerError(inv, error, start);
        }
      }
      inv = next(threadKey, inv);
    }
  }

  /** On the event loop: runs a method returning a Future or CompletionStage. */
  private void runOnLoop(Invocation inv) {
    if (deadlinePassed(inv)) {
      release(inv);
      return;
    }
    long start = System.nanoTime();
    if (inv.meters != null) {
      inv.meters.started(start - inv.received);
    }
    CallScope previous = CallScope.enter(new CallScope(definition.name(), inv.requestId, inv.deadline));
    if (inv.requestId != null) {
      MDC.put(Protocol.REQUEST_ID, inv.requestId); // for what the method logs before it returns its Future
    }
    Future<?> future;
    try {
      Object returned = inv.bound.invoke(instance);
      if (returned instanceof Future<?> f) {
        future = f;
      } else if (returned instanceof CompletionStage<?> cs) {
        future = Future.fromCompletionStage(cs, loop);
      } else {
        future = Future.failedFuture(new IllegalStateException(inv.bound.target().signature() + " returned null"));
      }
    } catch (Throwable t) {
      future = Future.failedFuture(t);
    } finally {
      MDC.remove(Protocol.REQUEST_ID);
      CallScope.restore(previous);
    }
    future.onComplete(ar -> {
      if (inv.meters != null) {
        inv.meters.ended(System.nanoTime() - start);
      }
      if (ar.succeeded()) {
        answer(inv, ar.result(), start);
      } else {
        answerError(inv, ar.cause(), start);
      }
      release(inv);
    });
  }

  private boolean deadlinePassed(Invocation inv) {
    if (inv.deadline != 0 && System.nanoTime() - inv.deadline >= 0) {
      if (inv.claim()) {
        metrics.failed(FailureCode.DEADLINE_EXCEEDED);
        if (inv.meters != null) {
          inv.meters.error(FailureCode.DEADLINE_EXCEEDED);
        }
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - inv.received);
        Protocol.fail(inv.message, FailureCode.DEADLINE_EXCEEDED, FailureCode.DEADLINE_EXCEEDED.name(),
          "The caller's budget was spent before " + definition.name() + "." + inv.method + " began (it waited "
            + waited + " ms here); it did not run", new JsonArray());
      }
      return true;
    }
    return false;
  }

  private void answer(Invocation inv, Object result, long start) {
    long micros = (System.nanoTime() - start) / 1000;
    Object wire;
    try {
      wire = Json.toWire(result);
    } catch (RuntimeException e) {
      answerError(inv, new IllegalArgumentException("The result of " + inv.bound.target().signature()
        + " cannot be mapped to JSON: " + e.getMessage(), e), start);
      return;
    }
    if (inv.claim()) {
      metrics.succeeded(micros);
      inv.message.reply(new JsonObject(new java.util.LinkedHashMap<>(4))
        .put(Protocol.SUCCESS, true)
        .put(Protocol.RESULT, wire)
        .put(Protocol.EXECUTION_TIME_MICROS, micros), REPLY);
    }
  }

  private void answerError(Invocation inv, Throwable t, long start) {
    long micros = (System.nanoTime() - start) / 1000;
    if (inv.claim()) {
      metrics.executed(micros);
      metrics.failed(FailureCode.SERVICE_ERROR);
      if (inv.meters != null) {
        inv.meters.error(FailureCode.SERVICE_ERROR);
      }
      Protocol.fail(inv.message, FailureCode.SERVICE_ERROR, t.getClass().getName(), t.getMessage(), Protocol.stackOf(t));
    }
  }

  /** A runner finished {@code done}: it takes the next queued invocation, or gives its slot back. */
  private Invocation next(long threadKey, Invocation done) {
    lock.lock();
    try {
      done.unlink();
      Invocation next = queue.poll();
      if (next == null) {
        tracker.closed(threadKey);
        freeSlot();
      } else {
        executing.link(next);
      }
      return next;
    } finally {
      lock.unlock();
    }
  }

  /** An event-loop invocation finished: hand its slot to the next queued one, or free it. */
  private void release(Invocation done) {
    Invocation next;
    lock.lock();
    try {
      done.unlink();
      next = queue.poll();
      if (next == null) {
        freeSlot();
      } else {
        executing.link(next);
      }
    } finally {
      lock.unlock();
    }
    if (next != null) {
      Invocation n = next;
      if (n.bound.target().kind() == ServiceMethods.Kind.BLOCKING) {
        dispatch(n);
      } else {
        loop.runOnContext(v -> runOnLoop(n));
      }
    }
  }

  private void freeSlot() {
    active--;
    if (stopping && active == 0 && idle != null) {
      idle.tryComplete();
    }
  }

  @Override
  public Future<?> stop() {
    if (ops != null) {
      ops.instance(this, ServiceOps.TaskState.STOPPING, loop, this::queued);
    }
    try {
      return stopInstance();
    } finally {
      if (ops != null) {
        ops.instanceGone(this);
      }
    }
  }

  private Future<?> stopInstance() {
    if (consumer != null) {
      try {
        consumer.unregister().await();
      } catch (RuntimeException e) {
        LOG.warn("Service '{}' instance {}: unregistering its consumer failed", definition.name(), index, e);
      }
      tracker.closed(consumerKey);
    }
    List<Invocation> dropped;
    lock.lock();
    try {
      stopping = true;
      dropped = new ArrayList<>(queue);
      queue.clear();
      idle = Promise.promise();
      if (active == 0) {
        idle.complete();
      }
    } finally {
      lock.unlock();
    }
    for (Invocation inv : dropped) {
      answerStopping(inv, "it was queued when the service was undeployed; it did not run");
    }
    long drainMillis = definition.options().getDrainTimeout().toMillis();
    try {
      idle.future().await(drainMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      List<Invocation> late;
      lock.lock();
      try {
        late = executing.linked();
      } finally {
        lock.unlock();
      }
      LOG.warn("Service '{}' instance {}: {} call(s) still executing after the drain timeout of {} ms; answering STOPPING",
        definition.name(), index, late.size(), drainMillis);
      for (Invocation inv : late) {
        answerStopping(inv, "it was still executing after the drain timeout of " + drainMillis + " ms");
        Thread thread = inv.thread;
        if (thread != null && thread.isVirtual()) {
          thread.interrupt();
        }
      }
    }
    if (instance instanceof ServiceLifecycle hooks) {
      runHook("stop", hooks::stop);
      runHook("cleanup", hooks::cleanup);
    }
    return Future.succeededFuture();
  }

  private void answerStopping(Invocation inv, String why) {
    if (inv.claim()) {
      metrics.failed(FailureCode.STOPPING);
      if (inv.meters != null) {
        inv.meters.error(FailureCode.STOPPING);
      }
      Protocol.fail(inv.message, FailureCode.STOPPING, FailureCode.STOPPING.name(),
        "Service '" + definition.name() + "' is stopping: " + why, new JsonArray());
    }
  }

  private interface Hook {
    void run() throws Exception;
  }

  private void runHook(String name, Hook hook) {
    try {
      hook.run();
    } catch (Exception e) {
      LOG.warn("Service '{}' instance {}: {}() failed", definition.name(), index, name, e);
    }
  }

  /** One admitted request. */
  private static final class Invocation {
    final Message<Object> message;
    final String method;
    final ServiceMethods.Bound bound;
    final long received;
    final long deadline;
    final String requestId;
    /** This method's meters, or {@code null} when metrics are off. */
    final ServiceOps.ServerMeters meters;
    private final AtomicBoolean answered = new AtomicBoolean();
    /** The virtual thread running the method, while it runs (interrupted after the drain timeout). */
    volatile Thread thread;
    private Invocation prev;
    private Invocation next;

    /** {@return the head of an empty list of executing invocations} */
    static Invocation sentinel() {
      Invocation head = new Invocation(null, null, null, 0, 0, null, null);
      head.prev = head;
      head.next = head;
      return head;
    }

    /** Appends {@code inv} to the list this sentinel heads. */
    void link(Invocation inv) {
      inv.prev = prev;
      inv.next = this;
      prev.next = inv;
      prev = inv;
    }

    /** Removes this invocation from its list, if it is in one. */
    void unlink() {
      if (next != null) {
        prev.next = next;
        next.prev = prev;
        prev = null;
        next = null;
      }
    }

    /** {@return the invocations of the list this sentinel heads} */
    List<Invocation> linked() {
      List<Invocation> list = new ArrayList<>();
      for (Invocation i = next; i != this; i = i.next) {
        list.add(i);
      }
      return list;
    }

    Invocation(Message<Object> message, String method, ServiceMethods.Bound bound, long received, long deadline,
               String requestId, ServiceOps.ServerMeters meters) {
      this.meters = meters;
      this.message = message;
      this.method = method;
      this.bound = bound;
      this.received = received;
      this.deadline = deadline;
      this.requestId = requestId;
    }

    /** @return true for the one caller allowed to answer */
    boolean claim() {
      return answered.compareAndSet(false, true);
    }
  }

  private final class Context implements ServiceContext {
    private final ServiceClient client;

    Context(ServiceClient client) {
      this.client = client;
    }

    @Override
    public String name() {
      return definition.name();
    }

    @Override
    public String environment() {
      return environment;
    }

    @Override
    public int instanceIndex() {
      return index;
    }

    @Override
    public String address() {
      return address;
    }

    @Override
    public JsonObject config() {
      return definition.options().getConfig().copy();
    }

    @Override
    public Logger logger() {
      return serviceLog;
    }

    @Override
    public ServiceClient services() {
      return client;
    }

    @Override
    public Vertx vertx() {
      return vertx;
    }
  }
}
