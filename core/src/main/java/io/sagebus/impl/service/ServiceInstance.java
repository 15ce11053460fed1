package io.sagebus.impl.service;

import io.sagebus.EnvironmentOptions;
import io.sagebus.FailureCode;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceContext;
import io.sagebus.ServiceLifecycle;
import io.sagebus.ServiceOptions;
import io.sagebus.impl.call.CallScope;
import io.sagebus.impl.call.DirectCalls;
import io.sagebus.impl.ops.Operations;
import io.sagebus.impl.wire.Protocol;
import io.sagebus.impl.ResourceTracker;
import io.sagebus.impl.registry.ServiceDefinition;
import io.sagebus.impl.registry.ServiceMethods;
import io.sagebus.impl.ops.ServiceMetrics;
import io.sagebus.impl.ops.ServiceOps;
import io.sagebus.impl.registry.ServiceRegistry;
import io.sagebus.impl.wire.CallRequest;
import io.sagebus.impl.wire.WireCodecs;
import io.sagebus.impl.trace.Tracing;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One running instance of a service, behind {@link io.sagebus.ServiceTaskVerticle}: it consumes
 * the service's address on an event loop of its own (on its virtual-thread context instead when
 * every method returns a plain value), and every request goes through three parts:
 * reading and {@link Admission} (limits, queue, OVERLOADED), {@link Invocation} (one call, run on
 * the event loop or a virtual thread, answered once) and the {@link Recorder} (stats and meters).
 * Every request is answered, whatever its body and whatever the method throws.
 */
public final class ServiceInstance implements DirectCalls.Target {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceInstance.class);
  /** How long a stopping instance waits for its runner threads to end once their calls were answered. */
  private static final long RUNNER_END_MS = 2_000;
  /** How long an idle runner waits for the next invocation before it ends (see {@link #awaitBriefly()}). */
  private static final long RUNNER_SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
  /**
   * For how many invocations a runner that last found other invocations waiting behind the one it took
   * keeps waiting briefly for the next when it runs out (see {@link #runBlocking()}).
   */
  private static final int BACKLOG_MEMORY = 8;
  private static final long DEFAULT_FOREIGN_TIMEOUT_MS = new EnvironmentOptions().getAsyncTimeout().toMillis();

  private final String environment;
  private final ServiceDefinition definition;
  private final int index;
  private final ServiceMetrics metrics;
  private final ServiceRegistry registry;
  private final String address;
  private final Admission admission;
  /** Runner threads alive (each holds a "thread" entry in the tracker until it ends). */
  private final AtomicInteger runners = new AtomicInteger();
  /** Set when stopping: completed once no runner thread is alive (a JDK future: see stopInstance). */
  private volatile CompletableFuture<Void> runnersGone;
  /** Blocking invocations holding a slot, waiting for a runner to take them. */
  private final ConcurrentLinkedQueue<Invocation> ready = new ConcurrentLinkedQueue<>();
  /** Runners that will look at {@link #ready} again before they end (started, or between invocations). */
  private final AtomicInteger spare = new AtomicInteger();

  private Vertx vertx;
  /** The deployment's virtual-thread context: hooks and blocking methods run there. */
  private Context context;
  private ResourceTracker tracker;
  /** The consumer's own event loop: Future methods run there. */
  private ContextInternal loop;
  private MessageConsumer<Object> consumer;
  private long consumerKey;
  /** The control consumer: cancels of calls this instance may hold. */
  private MessageConsumer<Object> control;
  private long controlKey;
  private Object instance;
  private ServiceMethods methods;
  /** Whether every method of the service runs on the event loop (none may block). */
  private volatile boolean onLoopOnly;
  private Recorder recorder;
  private Logger serviceLog;
  private String runnerDescription;
  /** Budget of a request that gave none (a foreign sender's). */
  private long foreignTimeoutMs;
  /** Where this instance's state shows (health) and its meters live. */
  private ServiceOps ops;
  /** The batchers of its batched methods, by method name (empty for none). */
  private Map<String, Batcher> batchers = Map.of();
  /** Reads a request handed over by a caller on a virtual thread, in a task of the event loop. */
  private final Handler<Message<Object>> receiveFromVirtualThread = m -> receive(m, true, false);
  /** Reads a request handed over by a caller on a platform thread, in a task of the event loop. */
  private final Handler<Message<Object>> receiveFromPlatformThread = m -> receive(m, false, false);
  /** Set by {@link #leave()}: from then on every call that reaches it is refused LEAVING (it never runs). */
  private volatile boolean leaving;
  /** Calls refused LEAVING so far. */
  private final AtomicInteger refusedLeaving = new AtomicInteger();
  /** The environment's tracing: {@link Tracing#OFF} unless it is on. */
  private Tracing tracing = Tracing.OFF;
  /** Its service's direct path, which it joined once started (deployed by the environment in a single JVM), else {@code null}. */
  private DirectCalls direct;
  /** Set once it leaves or stops: it does not join the direct path (again). */
  private boolean directClosed;

  /**
   * An instance of a service.
   *
   * @param environment the environment name
   * @param definition  the service
   * @param index       this instance's index
   * @param metrics     the service's statistics, shared by its instances
   * @param registry    the environment's registry, or {@code null} to look it up in the Vertx when started
   */
  public ServiceInstance(String environment, ServiceDefinition definition, int index, ServiceMetrics metrics,
                         ServiceRegistry registry) {
    this.environment = environment;
    this.definition = definition;
    this.index = index;
    this.metrics = metrics;
    this.registry = registry;
    this.address = Protocol.serviceAddress(environment, definition.name());
    ServiceOptions opts = definition.options();
    this.admission = new Admission(opts.getMaxConcurrency(), opts.getMaxQueued(), this::handedOn);
  }

  /** {@return the address it consumes} */
  public String address() {
    return address;
  }

  /** {@return calls executing now (items of running batches included)} */
  public int inFlight() {
    int n = admission.active();
    for (Batcher b : batchers.values()) {
      n += b.runningItems();
    }
    return n;
  }

  /** {@return calls waiting for a slot now (items waiting for their batch included)} */
  public int queued() {
    int n = admission.queued();
    for (Batcher b : batchers.values()) {
      n += b.waiting();
    }
    return n;
  }

  /**
   * Starts the instance: makes the service object, runs its setup and start hooks, registers the
   * consumer.
   *
   * @param vertx   the Vertx
   * @param context the deploying verticle's context: it must be a virtual-thread one
   * @return completed once the consumer is registered
   */
  public Future<?> start(Vertx vertx, Context context) {
    this.vertx = vertx;
    this.context = context;
    if (context.threadingModel() != ThreadingModel.VIRTUAL_THREAD) {
      return Future.failedFuture(new IllegalStateException("ServiceTaskVerticle for '" + definition.name()
        + "' must be deployed with new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)"
        + " (it was deployed as " + context.threadingModel() + "): its service code and hooks may block"));
    }
    ServiceRegistry reg = registry != null ? registry : ServiceRegistry.lookup(vertx, environment);
    ServiceRegistry.Registration registration = reg == null ? null : reg.get(definition.name());
    ServiceOps found = registration == null ? null : registration.ops();
    ops = found != null ? found : Operations.of(vertx).service(environment, definition.name());
    ops.instance(this, ServiceOps.TaskState.STARTING, null, this::queued);
    Future<?> started;
    try {
      started = startInstance(reg);
    } catch (RuntimeException | Error e) {
      ops.instanceGone(this);
      throw e;
    }
    return started.onComplete(ar -> {
      if (ar.succeeded()) {
        ops.instance(this, ServiceOps.TaskState.RUNNING, loop, this::queued);
        if (registry != null && registration != null && !vertx.isClustered()) {
          // Deployed by its environment: calls from this JVM may reach it without the bus (not a task deployed by hand).
          joinDirectPath(registration.direct());
        }
      } else {
        ops.instanceGone(this);
      }
    });
  }

  private Future<?> startInstance(ServiceRegistry reg) {
    tracker = reg != null ? reg.tracker() : new ResourceTracker();
    tracing = reg != null ? reg.tracing() : Tracing.OFF;
    java.time.Duration own = definition.options().getTimeout();
    foreignTimeoutMs = !own.isZero() ? own.toMillis()
      : reg != null ? reg.options().getAsyncTimeout().toMillis() : DEFAULT_FOREIGN_TIMEOUT_MS;
    WireCodecs.register(vertx);
    serviceLog = LoggerFactory.getLogger("io.sagebus.service." + definition.name());
    runnerDescription = "service runner " + definition.name() + " #" + index;
    ServiceContext ctx = new InstanceContext(ServiceClient.create(vertx, environment));
    instance = definition.factory().apply(ctx);
    methods = ServiceMethods.of(instance.getClass(), definition.options().getBatching());
    onLoopOnly = methods.noneBlocking();
    recorder = new Recorder(metrics, ops.serverMeters(methods.names()));
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
    if (!methods.batched().isEmpty()) {
      Map<String, Batcher> made = new HashMap<>();
      methods.batched().forEach((name, batch) -> made.put(name, new Batcher(this, name, batch, admission, recorder,
        loop)));
      batchers = made;
    }
    Promise<Void> registered = Promise.promise();
    // Where the consumers read requests: the event loop, where Future methods and batchers run; but when every
    // method returns a plain value (it runs on a runner virtual thread anyway), the deployment's virtual-thread
    // context, so that a caller on a virtual thread reaches the runner without waking an event loop (a sequential
    // call's p50 about a third of that through the loop: BENCHMARKS.md, case 4p).
    Context consumerContext = methods.allBlocking() ? context : loop;
    consumerContext.runOnContext(v -> {
      // On the same context as the requests: a cancel sent after a request is read after it.
      String controlAddress = Protocol.controlAddress(environment, definition.name());
      control = vertx.eventBus().consumer(controlAddress, this::control);
      controlKey = tracker.opened("consumer", controlAddress + " #" + index);
      consumer = vertx.eventBus().consumer(address, this::receive);
      consumerKey = tracker.opened("consumer", address + " #" + index);
      Future.all(control.completion(), consumer.completion()).<Void>mapEmpty().onComplete(registered);
    });
    return registered.future();
  }

  /**
   * Takes a request straight from a caller in this JVM ({@link DirectCalls}), as its consumer takes one from the bus:
   * on the caller's thread when a method of the service may block (it then goes to a runner without waking the loop),
   * else on the event loop, where the method runs anyway (reading and admitting it there leaves the caller's thread
   * free for its next call: a mapAsync operator starts 10-13% more calls a second, BENCHMARKS.md), and where the
   * batcher of a batched method gathers its items. A method never runs inside its caller's own call (as a task of
   * its own on the loop, as on the bus, even for a caller on this loop): a service calling itself again and again
   * from its Future method's callbacks does not grow its stack.
   *
   * @param request the request
   */
  @Override
  public void deliver(Message<Object> request) {
    // A caller on a virtual thread (a job's operator) sends its next call from the carrier its runner yields to.
    boolean fromVirtualThread = Thread.currentThread().isVirtual();
    if (batchers.isEmpty() && !onLoopOnly) {
      receive(request, fromVirtualThread, true);
    } else if (!loop.inThread()) {
      // From another thread emit queues one task, run as runOnContext runs it (the context current, a failure reported);
      // a direct request is that task itself.
      Handler<Message<Object>> read = fromVirtualThread ? receiveFromVirtualThread : receiveFromPlatformThread;
      if (request instanceof DirectCalls.Carried carried) {
        carried.emitOn(loop, read);
      } else {
        loop.emit(request, read);
      }
    } else if (ContextInternal.current() == null) {
      // On the loop in a task that runs no context (a nonBlocking mapAsync starting calls where earlier ones ended):
      // read now, inside it, with the loop's context current; queued, it would wait behind every task queued meanwhile.
      loop.emit(request, receiveFromPlatformThread);
    } else {
      loop.runOnContext(v -> receive(request, fromVirtualThread, false)); // on the loop: after this task, not inside it
    }
  }

  /** The consumer: reads and admits a request. Never throws, and leaves no request unanswered. */
  private void receive(Message<Object> message) {
    receive(message, false, false);
  }

  /**
   * Reads and admits a request: from the bus, or from a caller in this JVM (on the caller's thread, inside its call,
   * when {@code inCaller}); {@code direct} when that caller is a virtual thread.
   */
  private void receive(Message<Object> message, boolean direct, boolean inCaller) {
    long received = System.nanoTime();
    Invocation inv = null;
    try {
      inv = read(message, received);
      if (inv != null) {
        inv.direct = direct;
        inv.inCaller = inCaller;
        admit(inv);
      }
    } catch (Throwable t) {
      if (inv != null) {
        inv.fail(FailureCode.SERVICE_ERROR, t.getClass().getName(), String.valueOf(t.getMessage()), new JsonArray());
      } else {
        refuse(message, null, FailureCode.BAD_REQUEST, "The request could not be read: " + t);
      }
    }
  }

  /**
   * The control consumer: a cancel names a request id; the instance holding that call drops it (queued)
   * or cancels it (executing: answered CANCELLED, its thread interrupted, the calls it made cancelled).
   * The others, and this one when the call has its answer already, ignore it. Never answers: it is published.
   */
  private void control(Message<Object> message) {
    try {
      if (!(message.body() instanceof JsonObject json) || !Protocol.CANCEL.equals(json.getValue(Protocol.ACTION))
        || !(json.getValue(Protocol.CANCEL_ID) instanceof String id)) {
        LOG.debug("Service '{}' instance {}: ignoring a control message that is not a cancel", definition.name(), index);
        return;
      }
      Object why = json.getValue(Protocol.CANCEL_REASON);
      String reason = why instanceof String text ? text : "cancelled";
      // A caller that gave up at its deadline: the call is counted as that, not as cancelled by someone.
      FailureCode code = Boolean.TRUE.equals(json.getValue(Protocol.CANCEL_DEADLINE)) ? FailureCode.DEADLINE_EXCEEDED
        : FailureCode.CANCELLED;
      Admission.Found found = admission.find(id);
      for (Invocation inv : found.queued()) {
        inv.fail(code, code.name(), "The call to " + definition.name() + "." + inv.method
          + " was cancelled while queued (" + reason + "); it did not run", new JsonArray());
      }
      for (Invocation inv : found.running()) {
        if (inv.cancel(code, reason)) {
          Batcher batcher = batchers.get(inv.method);
          if (batcher != null) {
            batcher.dropWaiting(inv); // waiting for its batch: it leaves now, not when its batch closes
          }
          LOG.debug("Service '{}' instance {}: cancelled {}.{} {}: {}", definition.name(), index, definition.name(),
            inv.method, id, reason);
        }
      }
    } catch (RuntimeException e) {
      // A body Vert.x cannot read (a foreign codec): only JSON is accepted, and nothing is answered.
      LOG.debug("Service '{}' instance {}: unreadable control message", definition.name(), index, e);
    }
  }

  /** {@return the request as an invocation, or {@code null} when it was refused (and answered)} */
  private Invocation read(Message<Object> message, long received) {
    Object body;
    try {
      body = message.body();
    } catch (Throwable t) {
      // e.g. Vert.x's serializable codec refusing a class: only JSON is accepted.
      refuse(message, null, FailureCode.BAD_REQUEST, "The request body cannot be read (only a JSON object "
        + "{\"method\", \"args\"} is accepted; Java serialization is refused): " + t);
      return null;
    }
    CallRequest request;
    boolean sagebus;
    if (body instanceof CallRequest r) {
      request = r;
      sagebus = true;
    } else if (body instanceof JsonObject json) {
      try {
        request = CallRequest.fromJson(json);
      } catch (IllegalArgumentException e) {
        refuse(message, null, FailureCode.BAD_REQUEST, "Bad request body: " + e.getMessage());
        return null;
      }
      sagebus = false;
    } else {
      refuse(message, null, FailureCode.BAD_REQUEST, "The request body must be a JSON object {\"method\", \"args\"}, got "
        + (body == null ? "nothing" : body.getClass().getSimpleName()));
      return null;
    }
    // Its nesting was bounded where it was made: by the caller's copy in this JVM, by CallRequest.fromJson else.
    ServiceOps.ServerMeters meter = recorder.arrived(request.method());
    ServiceMethods.Bound bound;
    try {
      bound = methods.bind(request.method(), request.args());
    } catch (ServiceMethods.CallRejected e) {
      if (tracing.enabled()) {
        tracing.refused(message, definition.name(), request.method(), request.id(), e.code(), e.getMessage());
      }
      fail(message, meter, e.code(), e.getMessage());
      return null;
    }
    long budget = request.timeoutMs() == CallRequest.NO_TIMEOUT ? foreignTimeoutMs : request.timeoutMs();
    long deadline = received + TimeUnit.MILLISECONDS.toNanos(budget);
    if (deadline == 0) {
      deadline = 1; // 0 means "no deadline"
    }
    Invocation inv = new Invocation(message, definition.name(), request.method(), bound, received, deadline,
      request.id(), sagebus, meter, recorder);
    if (tracing.enabled()) {
      inv.trace = tracing.server(message, definition.name(), request.method(), request.id());
    }
    return inv;
  }

  /** Answers a request that was never admitted (its body could not be read). */
  private void refuse(Message<Object> message, ServiceOps.ServerMeters meter, FailureCode code, String text) {
    if (recorder == null) {
      metrics.request();
      metrics.failed(code);
    } else {
      ServiceOps.ServerMeters m = meter != null ? meter : recorder.arrived(null);
      recorder.failed(m, code, -1);
    }
    Protocol.fail(message, code, code.name(), text, new JsonArray());
  }

  /** Answers a request whose method was read but that cannot run. */
  private void fail(Message<Object> message, ServiceOps.ServerMeters meter, FailureCode code, String text) {
    recorder.failed(meter, code, -1);
    Protocol.fail(message, code, code.name(), text, new JsonArray());
  }

  private void admit(Invocation inv) {
    Batcher batcher = inv.bound.batched() ? batchers.get(inv.method) : null;
    switch (batcher != null ? admission.hold(inv) : admission.admit(inv)) {
      case RUN -> {
        if (batcher != null) {
          batcher.add(inv);
        } else {
          dispatch(inv);
        }
      }
      case FULL -> inv.fail(FailureCode.OVERLOADED, FailureCode.OVERLOADED.name(), "Service '" + definition.name()
        + "' instance " + index + " is full: " + admission.maxConcurrency() + " running, " + admission.maxQueued()
        + " queued", new JsonArray());
      case STOPPING -> {
        if (leaving) {
          refuseLeaving(inv);
        } else {
          stopping(inv, "it arrived while the service was being undeployed; it did not run");
        }
      }
      case QUEUED -> {
      }
    }
  }

  /** Runs an invocation that holds a slot, on the thread its method needs. */
  private void dispatch(Invocation inv) {
    if (inv.blocking()) {
      ready.offer(inv);
      if (spare.get() == 0) {
        spawnRunner();
      }
    } else if (!inv.inCaller && onLoop()) {
      runOnLoop(inv, inv.received); // as it arrives (on the consumer's handler): its arrival's clock reading is now
    } else {
      loop.runOnContext(v -> runOnLoop(inv));
    }
  }

  /** @return whether this thread runs {@code loop} now (the consumer's handler runs on a duplicate of it) */
  private boolean onLoop() {
    ContextInternal current = ContextInternal.current();
    return current != null && current.unwrap() == loop && loop.inThread();
  }

  /** Starts a runner: a virtual thread of the deployment's context, spare until it takes an invocation. */
  private void spawnRunner() {
    spare.incrementAndGet();
    long key = tracker.opened("thread", runnerDescription);
    runners.incrementAndGet();
    context.executeBlocking(() -> {
      try {
        runBlocking();
      } finally {
        runnerEnded(key);
      }
      return null;
    }, false);
  }

  /** Runs a batch of a blocking batched method on a virtual thread of its own, counted as a runner. */
  void onVirtualThread(Runnable task) {
    long key = tracker.opened("thread", runnerDescription);
    runners.incrementAndGet();
    context.executeBlocking(() -> {
      try {
        task.run();
      } finally {
        runnerEnded(key);
      }
      return null;
    }, false);
  }

  private void runnerEnded(long threadKey) {
    tracker.closed(threadKey);
    if (runners.decrementAndGet() == 0) {
      CompletableFuture<Void> gone = runnersGone;
      if (gone != null) {
        gone.complete(null);
      }
    }
  }

  /** {@return the service name} */
  String serviceName() {
    return definition.name();
  }

  /** {@return the service object} */
  Object serviceObject() {
    return instance;
  }

  /**
   * A runner, on a virtual thread of the deployment's context: takes dispatched blocking
   * invocations one after another (each with the queued ones its slot passes to) and ends when
   * none is left. Whenever it takes one and no other runner is spare while more wait, it starts
   * another, so an invocation never waits behind a method that blocks. Before it ends it may wait
   * briefly for the next ({@link #awaitBriefly()}): after a direct call from a virtual thread, or while
   * calls come in bursts (within its last {@link #BACKLOG_MEMORY} invocations it found others waiting
   * behind the one it took). A lone caller on an event loop or over the bus finds none waiting, so its
   * runner ends at once.
   */
  private void runBlocking() {
    boolean lastDirect = false;
    int backlog = 0;
    while (true) {
      Invocation inv = ready.poll();
      if (inv == null && (lastDirect || backlog > 0)) {
        inv = awaitBriefly();
      }
      if (inv != null) {
        backlog = !ready.isEmpty() ? BACKLOG_MEMORY : Math.max(0, backlog - 1);
      }
      if (inv == null) {
        spare.decrementAndGet();
        // A dispatcher that saw this runner spare offered before the decrement: look again.
        if (ready.isEmpty()) {
          return;
        }
        spare.incrementAndGet();
        continue;
      }
      if (spare.decrementAndGet() == 0 && !ready.isEmpty()) {
        spawnRunner();
      }
      while (inv != null) {
        if (!inv.blocking()) {
          Invocation async = inv;
          loop.runOnContext(v -> runOnLoop(async));
          break;
        }
        Invocation ran = inv;
        inv = run(inv);
        lastDirect = ran.direct;
      }
      spare.incrementAndGet();
    }
  }

  /**
   * A runner that found no invocation after answering a direct call from a virtual thread in this JVM,
   * or while calls come in bursts, waits a little for the next call before it ends: under a steady
   * stream of calls the dispatcher then finds a spare runner and starts no virtual thread (a thread
   * start, and waking a carrier thread for it, is the largest single cost of a plain-value call).
   * Every runner may wait, each for the callers it serves: with several operator instances calling
   * at once (parallelism 4 on 2 cores), letting only one wait made the others end and be started
   * again for the next calls (a {@code sync-p4} job 5% slower, BENCHMARKS.md). Not after a lone call
   * from an event loop or over the bus: on two cores a runner waiting on its carrier would keep the
   * event loop's reply and the caller from running. Bounded: a runner waits at most
   * {@link #RUNNER_SPIN_NANOS}, yielding its carrier meanwhile.
   *
   * @return an invocation that arrived meanwhile, or {@code null}
   */
  private Invocation awaitBriefly() {
    long end = System.nanoTime() + RUNNER_SPIN_NANOS;
    while (true) {
      // Yields its carrier rather than spinning on it: the caller it just answered (a job's operator on the direct
      // path is a virtual thread too) was woken onto this carrier's queue, and runs now, sending its next call here.
      // A yield takes a microsecond or more: the clock is read after each.
      Thread.yield();
      Invocation inv = ready.poll();
      if (inv != null) {
        return inv;
      }
      if (System.nanoTime() - end > 0) {
        return null;
      }
    }
  }

  /**
   * Runs one blocking invocation on this thread and answers it; its slot goes to the next call once its method
   * returned, before the answer goes out.
   *
   * @return the queued invocation its slot went to, for this thread to run next, or {@code null}
   */
  private Invocation run(Invocation inv) {
    // Answered already (STOPPING after the drain timeout while it waited for a runner): it must not run.
    long now = System.nanoTime();
    if (!inv.open() || expired(inv, now)) {
      return admission.next(inv);
    }
    inv.onThread(Thread.currentThread());
    CallScope previous = enter(inv, now);
    Object result = null;
    Throwable error = null;
    try {
      result = inv.bound.invoke(instance);
    } catch (Throwable t) {
      error = t;
    } finally {
      leave(inv, previous);
      inv.leftThread();
      Thread.interrupted(); // an interrupt meant for this call must not reach the next one
    }
    inv.end();
    // Given back before the answer: the caller, woken by it, may call again at once and find the slot free.
    Invocation next = admission.next(inv);
    if (error == null) {
      inv.succeedWith(result);
    } else {
      inv.failWith(error);
    }
    return next;
  }

  /** On the event loop: runs a method returning a Future or CompletionStage, or a @NonBlocking one. */
  private void runOnLoop(Invocation inv) {
    runOnLoop(inv, System.nanoTime());
  }

  /** On the event loop at {@code now}: runs a method returning a Future or CompletionStage, or a @NonBlocking one. */
  @SuppressWarnings("unchecked")
  private void runOnLoop(Invocation inv, long now) {
    // Answered already (cancelled, or STOPPING) while it waited for the loop: it must not run.
    if (!inv.open() || expired(inv, now)) {
      release(inv);
      return;
    }
    CallScope previous = enter(inv, now);
    Future<?> future;
    try {
      Object returned = inv.bound.invoke(instance);
      future = inv.bound.target().answer(returned, loop);
    } catch (Throwable t) {
      future = Future.failedFuture(t);
    } finally {
      leave(inv, previous);
    }
    inv.runningOn = this;
    ((Future<Object>) future).onComplete(inv); // the invocation is the listener: calls loopMethodEnded
  }

  /**
   * The Future of an invocation's method run on the loop ({@link #runOnLoop}) completed: it is answered, and its slot
   * goes to the next call.
   *
   * @param inv     the invocation
   * @param result  the method's result
   * @param failure its failure, or {@code null}
   */
  void loopMethodEnded(Invocation inv, Object result, Throwable failure) {
    try {
      inv.end();
      if (failure == null) {
        inv.succeedWith(result);
      } else {
        inv.failWith(failure);
      }
    } finally {
      release(inv);
    }
  }

  /** Starts an invocation's method on this thread: the meters, its scope and its request id in the MDC. */
  private CallScope enter(Invocation inv) {
    return enter(inv, System.nanoTime());
  }

  /** As {@link #enter(Invocation)}, at {@code now}. */
  private CallScope enter(Invocation inv, long now) {
    inv.begin(now);
    CallScope previous = CallScope.enter(inv); // the invocation is its own scope
    if (inv.requestId != null) {
      MDC.put(Protocol.REQUEST_ID, inv.requestId); // for what the method logs (before it returns its Future)
    }
    return previous;
  }

  private static void leave(Invocation inv, CallScope previous) {
    inv.left();
    MDC.remove(Protocol.REQUEST_ID);
    CallScope.restore(previous);
  }

  /** {@return whether its budget is spent; if so it was answered DEADLINE_EXCEEDED} */
  boolean expired(Invocation inv) {
    return expired(inv, System.nanoTime());
  }

  /** {@return whether its budget is spent at {@code now}; if so it was answered DEADLINE_EXCEEDED} */
  private boolean expired(Invocation inv, long now) {
    if (!inv.expired(now)) {
      return false;
    }
    long waited = TimeUnit.NANOSECONDS.toMillis(now - inv.received);
    inv.fail(FailureCode.DEADLINE_EXCEEDED, FailureCode.DEADLINE_EXCEEDED.name(), "The caller's budget was spent before "
      + definition.name() + "." + inv.method + " began (it waited " + waited + " ms here); it did not run",
      new JsonArray());
    return true;
  }

  /** An event-loop invocation finished: its slot goes to the next queued one, or is freed. */
  private void release(Invocation done) {
    Invocation next = admission.next(done);
    if (next != null) {
      handedOn(next);
    }
  }

  /** Runs a queued invocation a slot was handed to. */
  private void handedOn(Invocation next) {
    if (next.blocking()) {
      dispatch(next);
    } else {
      loop.runOnContext(v -> runOnLoop(next));
    }
  }

  /**
   * Starts a planned leave: the consumer stays registered, but from now on every call that reaches
   * this instance, and every call queued here, is answered {@link FailureCode#LEAVING} without
   * running (its caller sends it again to another replica); calls executing go on. {@link #stop()}
   * follows, once the other nodes no longer route calls here.
   */
  public void leave() {
    leaving = true;
    leaveDirectPath(); // callers in this JVM go to the other instances from now on, not to be refused here
    for (Invocation inv : admission.stop()) {
      refuseLeaving(inv);
    }
  }

  /** Takes calls on its service's direct path (see {@link DirectCalls}) from now on, unless it is leaving or stopping. */
  private synchronized void joinDirectPath(DirectCalls d) {
    if (!directClosed) {
      direct = d;
      d.add(this);
    }
  }

  /** Takes no more calls on the direct path, if it took any, and never will. */
  private synchronized void leaveDirectPath() {
    directClosed = true;
    DirectCalls d = direct;
    if (d != null) {
      d.remove(this);
      direct = null;
    }
  }

  /** {@return how many calls were refused {@link FailureCode#LEAVING} since {@link #leave()}} */
  public int refusedLeaving() {
    return refusedLeaving.get();
  }

  private void refuseLeaving(Invocation inv) {
    refusedLeaving.incrementAndGet();
    inv.fail(FailureCode.LEAVING, FailureCode.LEAVING.name(), "Service '" + definition.name() + "' instance " + index
      + " is leaving: the call did not run; send it to another replica", new JsonArray());
  }

  /**
   * Stops the instance: unregisters its consumer, answers queued calls STOPPING, lets executing
   * ones finish within the drain timeout (then answers them STOPPING and interrupts their
   * threads), runs the stop and cleanup hooks. Runs on the deployment's virtual thread.
   *
   * @return completed when it has stopped
   */
  public Future<?> stop() {
    leaveDirectPath(); // from now on calls go over the bus, which finds its consumer until it is unregistered

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
    for (Invocation inv : admission.stop()) {
      if (leaving) {
        refuseLeaving(inv);
      } else {
        stopping(inv, "it was queued when the service was undeployed; it did not run");
      }
    }
    batchers.values().forEach(Batcher::stop);
    long drainMillis = definition.options().getDrainTimeout().toMillis();
    try {
      admission.idle().await(drainMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      List<Invocation> late = admission.executing();
      LOG.warn("Service '{}' instance {}: {} call(s) still executing after the drain timeout of {} ms; answering STOPPING",
        definition.name(), index, late.size(), drainMillis);
      for (Invocation inv : late) {
        stopping(inv, "it was still executing after the drain timeout of " + drainMillis + " ms");
      }
      // Every call answered before any thread is interrupted: the items of one batch share a thread.
      for (Invocation inv : late) {
        inv.interrupt();
        inv.cancelCalls("the service is stopping");
      }
    }
    // A runner answers its last call (or is interrupted) a moment before its thread ends: wait for that, so
    // that nothing of this instance runs once it has stopped.
    // Not Future.await: after the drain's await timed out, a second await on this virtual thread fails in
    // Vert.x 5.0.7 (TaskQueue.continuationTask); parking on a JDK future is safe here.
    CompletableFuture<Void> gone = new CompletableFuture<>();
    runnersGone = gone;
    if (runners.get() == 0) {
      gone.complete(null);
    }
    try {
      gone.get(RUNNER_END_MS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.warn("Service '{}' instance {}: {} runner thread(s) still alive {} ms after their calls were answered "
        + "(a method that ignores interruption?)", definition.name(), index, runners.get(), RUNNER_END_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      LOG.warn("Service '{}' instance {}: waiting for its runner threads failed", definition.name(), index, e);
    }
    // The control consumer goes last: a cancel still reaches a call that executes during the drain.
    if (control != null) {
      // Not awaited (a second await on this thread fails after a timed-out one, see above): it is gone locally at once.
      control.unregister().onFailure(e -> LOG.warn("Service '{}' instance {}: unregistering its control consumer "
        + "failed", definition.name(), index, e));
      tracker.closed(controlKey);
    }
    if (instance instanceof ServiceLifecycle hooks) {
      runHook("stop", hooks::stop);
      runHook("cleanup", hooks::cleanup);
    }
    return Future.succeededFuture();
  }

  /** Answers a call STOPPING. */
  void stopping(Invocation inv, String why) {
    inv.fail(FailureCode.STOPPING, FailureCode.STOPPING.name(), "Service '" + definition.name() + "' is stopping: " + why,
      new JsonArray());
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

  /** The {@link ServiceContext} its service object gets. */
  private final class InstanceContext implements ServiceContext {
    private final ServiceClient client;

    InstanceContext(ServiceClient client) {
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
