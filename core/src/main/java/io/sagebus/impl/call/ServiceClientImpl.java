package io.sagebus.impl.call;

import io.sagebus.impl.Json;
import io.sagebus.impl.ResourceTracker;
import io.sagebus.impl.ops.Breaker;
import io.sagebus.impl.ops.ServiceMetrics;
import io.sagebus.impl.ops.ServiceOps;
import io.sagebus.impl.ops.Throttle;
import io.sagebus.impl.registry.ServiceDefinition;
import io.sagebus.impl.registry.ServiceRegistry;
import io.sagebus.impl.trace.Tracing;
import io.sagebus.impl.wire.Protocol;
import io.sagebus.spi.ServiceDirectory;

import com.fasterxml.jackson.databind.JavaType;
import io.sagebus.CallHandle;
import io.sagebus.CallOptions;
import io.sagebus.EnvironmentOptions;
import io.sagebus.FailureCode;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceCallException;
import io.sagebus.ServiceCancelledException;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceNotFoundException;
import io.sagebus.ServiceOptions;
import io.sagebus.ServiceStats;
import io.sagebus.ServiceThrottledException;
import io.sagebus.ServiceTimeoutException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.sagebus.ServiceDeploymentException;
import io.sagebus.impl.wire.CallReply;
import io.sagebus.impl.wire.CallRequest;
import io.sagebus.impl.wire.WireCodecs;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The service client: event-bus request-reply with deadlines, retries and typed failures.
 */
public final class ServiceClientImpl implements ServiceClient {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceClientImpl.class);
  private static final EnvironmentOptions DEFAULT_ENVIRONMENT = new EnvironmentOptions();
  private static final long NO_CONSUMER_FIRST_WAIT_MS = 5;
  private static final long NO_CONSUMER_MAX_WAIT_MS = 200;
  private static final long THROTTLE_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  /** A call's states: it runs with no end-of-call work armed, with it armed, or it has ended. */
  private static final int RUNNING = 0;
  private static final int ARMED = 1;
  private static final int ENDED = 2;
  private static final VarHandle CALL_STATE;

  static {
    try {
      CALL_STATE = MethodHandles.lookup().findVarHandle(Call.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Vertx vertx;
  private final String environment;
  private final ServiceRegistry ownRegistry;
  private final String caller;
  private final RequestIds requestIds = new RequestIds();

  private ServiceClientImpl(Vertx vertx, String environment, ServiceRegistry ownRegistry, String caller) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.environment = ServiceDefinition.checkName("environment", environment);
    this.ownRegistry = ownRegistry;
    this.caller = caller;
    WireCodecs.register(vertx);
  }

  /**
   * {@return a client that finds the environment's registry on each call}
   *
   * @param vertx       the Vertx
   * @param environment an environment name
   */
  public static ServiceClientImpl forEnvironment(Vertx vertx, String environment) {
    return new ServiceClientImpl(vertx, environment, null, "client");
  }

  /**
   * {@return the environment's own client}
   *
   * @param vertx    the Vertx
   * @param registry the environment's registry
   */
  public static ServiceClientImpl forRegistry(Vertx vertx, ServiceRegistry registry) {
    return new ServiceClientImpl(vertx, registry.environment(), registry, "client");
  }

  private ServiceRegistry registry() {
    return ownRegistry != null ? ownRegistry : ServiceRegistry.lookup(vertx, environment);
  }

  @Override
  public String environment() {
    return environment;
  }

  @Override
  public <T> Future<T> callAsync(String service, Object... args) {
    return this.<T>start(service, CallOptions.create(), args, false).future();
  }

  @Override
  public <T> Future<T> callAsync(String service, CallOptions options, Object... args) {
    return this.<T>start(service, options, args, false).future();
  }

  @Override
  public <T> CallHandle<T> callCancellable(String service, CallOptions options, Object... args) {
    return start(service, options, args, false);
  }

  @Override
  public <T> T call(String service, Object... args) {
    return call(service, CallOptions.create(), args);
  }

  @Override
  public <T> T call(String service, CallOptions options, Object... args) {
    if (Context.isOnVertxThread()) {
      throw new IllegalStateException("ServiceClient.call(\"" + service + "\", ...) blocks, so it cannot run on "
        + Thread.currentThread().getName() + " (a Vert.x event-loop or worker thread): use callAsync(...) and "
        + "compose the Future, or call from a virtual thread (a verticle deployed with ThreadingModel.VIRTUAL_THREAD)");
    }
    CallHandle<T> handle = this.<T>start(service, options, args, true);
    try {
      return handle instanceof Call<T> c ? c.await() : ThreadWait.await(handle.future());
    } finally {
      if (handle instanceof Call<T> call && call.followed != null) {
        Cancellation followed = call.followed;
        int where = call.where;
        if (call.promise.future().isComplete()) {
          // Left on the caller's thread, before its next call takes the same slot: the thread completing the call
          // may still be running the call's listeners when this thread, finding the outcome there, goes on.
          followed.remove(call, where);
        } else {
          // The wait ended without the outcome (this thread was interrupted, as a cancelled job's operators are):
          // the call still follows the cancellation (the job's cancel reaches it after the interrupt) until it ends.
          call.promise.future().onComplete((r, e) -> followed.remove(call, where));
        }
      }
    }
  }

  private <T> CallHandle<T> start(String service, CallOptions options, Object[] args, boolean sync) {
    if (service == null) {
      return Handle.failed(null, new IllegalArgumentException("The service name must not be null"));
    }
    CallOptions opts = options == null ? CallOptions.create() : options;
    ServiceRegistry reg = registry();
    ServiceRegistry.Registration registration = reg == null ? null : reg.get(service);
    // An unregistered name may still be consumed (a task deployed by hand): a NO_HANDLERS answer decides.
    ServiceOptions so = registration == null ? null : registration.definition().options();
    EnvironmentOptions eo = reg == null ? DEFAULT_ENVIRONMENT : reg.options();
    Duration timeout = opts.getTimeout() != null ? opts.getTimeout()
      : so != null && !so.getTimeout().isZero() ? so.getTimeout()
      : sync ? eo.getSyncTimeout() : eo.getAsyncTimeout();
    long budget = timeout.toMillis();
    CallScope scope = CallScope.current();
    String requestId = requestIds.next();
    String from = caller;
    if (scope != null) {
      from = scope.service();
      long left = scope.remainingMillis();
      if (left <= 0) {
        return Handle.failed(requestId, new ServiceTimeoutException(service, opts.getMethod(), Duration.ZERO, 0,
          "the calling service '" + scope.service() + "' has no budget left for this call"));
      }
      budget = Math.min(budget, left);
    }
    // Read-only lists: nothing changes a call's arguments once made (a retry sends a copy); one argument takes no array.
    JsonArray wireArgs;
    if (args == null) {
      wireArgs = new JsonArray(Collections.singletonList(null));
    } else {
      Object[] wire = args.length == 1 ? null : new Object[args.length];
      Object only = null;
      for (int i = 0; i < args.length; i++) {
        Object w;
        try {
          w = Json.toWire(args[i]);
        } catch (Json.TooDeep e) {
          return Handle.failed(requestId, new ServiceCallException(service, opts.getMethod(), FailureCode.BAD_REQUEST,
            null, "Argument " + i + " is " + e.getMessage(), List.of()));
        } catch (RuntimeException e) {
          return Handle.failed(requestId, new ServiceCallException(service, opts.getMethod(), FailureCode.BAD_ARGUMENTS,
            e.getClass().getName(), "Argument " + i + " (" + args[i].getClass().getName()
            + ") cannot be mapped to JSON: " + e.getMessage(), List.of()));
        }
        if (wire == null) {
          only = w;
        } else {
          wire[i] = w;
        }
      }
      wireArgs = new JsonArray(wire == null ? Collections.singletonList(only) : Arrays.asList(wire));
    }
    boolean retryable = opts.getRetryable() != null ? opts.getRetryable() : so != null && so.isRetryable();
    RetryPolicy policy = opts.getRetryPolicy() != null ? opts.getRetryPolicy() : so != null ? so.getRetryPolicy() : null;
    if (!retryable || policy == null) {
      policy = null;
    }
    JavaType resultType = opts.getResultType() == null ? null : Json.javaType(opts.getResultType());
    ResultCache cache = registration == null || so.getCache() == null ? null : registration.resultCache();
    boolean cached = cache != null && cache.caches(opts.getMethod());
    // A cached call carries the wire result: it is copied and converted per caller, who may each ask another type.
    Call<T> call = new Call<>(service, opts.getMethod(), wireArgs, requestId, from, budget, policy,
      cached ? null : resultType, registration == null ? null : registration.metrics(), reg == null ? null : reg.tracker(),
      registration == null ? Protocol.serviceAddress(environment, service) : registration.address());
    // Calls made by a service while it serves a call follow that call's cancellation; an operator's, its job's.
    Cancellation parent = scope != null ? scope.cancellation() : Cancellation.ambient();
    if (registration != null) {
      call.direct = registration.direct().route(vertx, scope == null && parent != null);
    }
    if (parent != null && parent.isCancelled()) {
      return Handle.failed(requestId, new ServiceCancelledException(service, opts.getMethod(),
        "not sent: " + parent.reason()));
    }
    Tracing tracing = reg == null ? Tracing.OFF : reg.tracing();
    if (tracing.enabled()) {
      call.trace = tracing.call(service, opts.getMethod(), requestId, from);
    }
    CallHandle<T> handle;
    if (cached) {
      // A cached call may be shared by equal calls: cancelling fails this caller alone, the shared call goes on.
      Promise<T> own = Promise.promise();
      handle = new Handle<>(requestId, own.future(),
        why -> own.tryFail(new ServiceCancelledException(service, call.method, why)));
      cachedCall(registration, cache, call, resultType, own);
    } else {
      Future<T> outcome = registration == null ? call.sendNow() : guardedAndMetered(registration, call);
      if (outcome == call.promise.future()) {
        handle = call; // its own handle: no object more per call
      } else {
        // Behind a rate-limit wait or a breaker, the outcome follows the call later: a cancel fails it at once.
        Promise<T> own = Promise.promise();
        outcome.onComplete(ar -> {
          if (ar.succeeded()) {
            own.tryComplete(ar.result());
          } else {
            own.tryFail(ar.cause());
          }
        });
        handle = new Handle<>(requestId, own.future(), why -> {
          boolean cancelled = call.cancel(why);
          if (cancelled) {
            own.tryFail(call.promise.future().cause());
          }
          return cancelled;
        });
      }
    }
    if (parent != null && !handle.future().isComplete()) {
      Cancellation.Listener listener = (Cancellation.Listener) handle;
      int where = parent.add(listener);
      if (handle == call && sync) {
        call.followed = parent; // call() leaves it once the outcome is there
        call.where = where;
      } else if (handle == call) {
        call.leaveAtEnd(parent, where);
      } else {
        handle.future().onComplete((r, e) -> parent.remove(listener, where));
      }
    }
    if (call.ending() && !call.armed) {
      call.arm();
    }
    if (call.trace != null) {
      handle.future().onComplete(call.trace::ended);
    }
    return handle;
  }

  /** The handle of a call: its outcome, and how to cancel it. Listens to the cancellation the call follows. */
  private static final class Handle<T> implements CallHandle<T>, Cancellation.Listener {
    private final String requestId;
    private final Future<T> future;
    private final java.util.function.Predicate<String> cancel;

    Handle(String requestId, Future<T> future, java.util.function.Predicate<String> cancel) {
      this.requestId = requestId;
      this.future = future;
      this.cancel = cancel;
    }

    static <T> Handle<T> failed(String requestId, Throwable cause) {
      return new Handle<>(requestId, Future.failedFuture(cause), why -> false);
    }

    @Override
    public Future<T> future() {
      return future;
    }

    @Override
    public String requestId() {
      return requestId;
    }

    @Override
    public boolean cancel() {
      return cancel.test("cancelled by the caller");
    }

    @Override
    public void cancelled(String reason) {
      cancel.test(reason);
    }
  }

  // ---- result cache and coalescing ----

  /**
   * Answers a call to a cached method from the service's result cache, shares an equal call in
   * flight, or sends it (and lets equal calls share it). Every caller keeps its own deadline and
   * gets its own copy of the result, converted to its own result type.
   */
  private <T> void cachedCall(ServiceRegistry.Registration registration, ResultCache cache, Call<T> call,
                              JavaType resultType, Promise<T> promise) {
    ResultCache.Lookup lookup = cache.lookup(call.method, call.args);
    ServiceMetrics metrics = registration.metrics();
    ServiceOps ops = registration.ops();
    CompletableFuture<ResultCache.Result> shared = lookup.shared();
    if (call.trace != null && lookup.outcome() != ResultCache.Outcome.MISS) {
      call.trace.cache(lookup.outcome() == ResultCache.Outcome.HIT ? "hit" : "coalesced");
    }
    switch (lookup.outcome()) {
      case HIT -> metrics.cacheHit();
      case MISS -> {
        metrics.cacheMiss();
        Future<T> sent = guardedAndMetered(registration, call);
        if (call.ending()) {
          call.arm(); // the meters first, then the callers sharing it, as without a cache
        }
        sent.onComplete(ar -> {
          if (ar.succeeded()) {
            lookup.succeeded(ar.result());
          } else {
            lookup.failed(ar.cause());
          }
        });
      }
      case COALESCED -> {
        metrics.cacheCoalesced();
        awaitOwnDeadline(call, promise, shared);
      }
    }
    // A waiter on another caller's call hears the outcome on its own context (a verticle's code stays on its
    // thread); a virtual thread awaiting it, or code outside Vert.x, hears it on the completing thread.
    Context context = lookup.outcome() == ResultCache.Outcome.COALESCED ? Vertx.currentContext() : null;
    shared.whenComplete((result, failure) -> {
      if (context != null && context.threadingModel() != ThreadingModel.VIRTUAL_THREAD
        && Vertx.currentContext() != context) {
        context.runOnContext(v -> deliver(call, resultType, promise, result, failure));
      } else {
        deliver(call, resultType, promise, result, failure);
      }
    });
    Future<T> outcome = promise.future();
    if (ops != null && ops.metricsEnabled()) {
      int index = lookup.outcome().ordinal();
      outcome.onComplete(ar -> ops.cacheEnded(call.method, index, ar.succeeded()));
    }
  }

  /** A call sharing an equal call in flight still fails at its own deadline, while the shared call goes on. */
  private <T> void awaitOwnDeadline(Call<T> call, Promise<T> promise, CompletableFuture<ResultCache.Result> shared) {
    long remaining = call.remainingMillis();
    if (remaining <= 0) {
      call.timedOut(); // fails its promise; the waiter's own outcome follows
      promise.tryFail(call.promise.future().cause());
      return;
    }
    long timer = vertx.setTimer(remaining, id -> {
      if (promise.future().isComplete()) {
        return;
      }
      call.lastProblem = "waited for an equal call in flight (coalesced), which had no answer yet";
      call.timedOut();
      promise.tryFail(call.promise.future().cause());
    });
    shared.whenComplete((r, e) -> vertx.cancelTimer(timer));
  }

  private <T> void deliver(Call<T> call, JavaType resultType, Promise<T> promise, ResultCache.Result result,
                           Throwable failure) {
    if (failure != null || result.failure() != null) {
      promise.tryFail(failure != null ? failure : result.failure());
      return;
    }
    Object value = ResultCache.copyOf(result.wire());
    if (resultType != null) {
      try {
        value = Json.fromWire(value, resultType);
      } catch (RuntimeException e) {
        promise.tryFail(new ServiceCallException(call.service, call.method, FailureCode.BAD_RESULT,
          e.getClass().getName(), "The result cannot be converted to " + resultType.toCanonical() + ": "
          + e.getMessage(), List.of()));
        return;
      }
    }
    @SuppressWarnings("unchecked")
    T t = (T) value;
    promise.tryComplete(t);
  }

  /**
   * Sends a call to a registered service after a permit of its rate limit, when it has one, through
   * its circuit breaker, when it has one, and records it in the caller-side meters (wait included),
   * when metrics are on. Without any, it only sends.
   */
  private <T> Future<T> guardedAndMetered(ServiceRegistry.Registration registration, Call<T> call) {
    ServiceOps ops = registration.ops();
    boolean metered = ops != null && ops.metricsEnabled();
    long started = 0;
    if (metered) {
      started = System.nanoTime();
      ops.callStarted();
    }
    Breaker breaker = registration.definition().options().getCircuitBreaker() == null ? null : registration.breaker();
    if (breaker != null) {
      call.immediate = false; // the breaker runs it on its own context, a moment later
    }
    Supplier<Future<T>> send = breaker == null ? call::sendNow : () -> breaker.execute(call.method, call::sendNow);
    Throttle throttle = registration.throttle();
    Future<T> outcome = throttle == null ? send.get() : permit(throttle, ops, call).compose(v -> send.get());
    if (metered) {
      if (outcome == call.promise.future()) {
        call.meterAtEnd(ops, started); // with the call's other end-of-call work, in one listener
      } else {
        long t0 = started;
        outcome.onComplete((r, e) -> ops.callEnded(call.method, t0, call.attempts, e));
      }
    }
    return outcome;
  }

  /**
   * Takes a permit of the service's rate limit for a call, before its first attempt (retries take none):
   * at once when one is free, else after a Vert.x timer (no thread waits), else, when the next permit comes
   * after the call's deadline, a {@link ServiceThrottledException} at once. The wait is tracked like the
   * other timers of the environment: closing it fails the waiting calls with STOPPING.
   */
  private Future<Void> permit(Throttle throttle, ServiceOps ops, Call<?> call) {
    long left = call.deadline - System.nanoTime();
    if (left <= 0) {
      return Future.succeededFuture(); // the first attempt reports the spent budget, as without a limit
    }
    // A permit is of no use to a call it would leave without budget: keep a millisecond for the attempt.
    long wait = throttle.reserve(Math.max(1, left - THROTTLE_MARGIN_NANOS));
    if (wait < 0) {
      if (call.metrics != null) {
        call.metrics.throttleRejected();
      }
      return Future.failedFuture(new ServiceThrottledException(call.service, call.method, throttle.limit(),
        Duration.ofNanos(throttle.estimateWaitNanos()), Duration.ofNanos(left)));
    }
    if (ops != null) {
      ops.throttleWaited(wait);
    }
    if (wait == 0) {
      return Future.succeededFuture();
    }
    if (call.metrics != null) {
      call.metrics.throttled(wait);
    }
    call.immediate = false;
    Promise<Void> permitted = Promise.promise();
    call.tracker.timer(vertx, TimeUnit.NANOSECONDS.toMillis(wait + 999_999),
      "rate-limit wait of " + call.service + "." + call.method + " " + call.requestId, permitted::tryComplete,
      () -> permitted.tryFail(new ServiceCallException(call.service, call.method, FailureCode.STOPPING, null,
        "The environment closed while the call waited for a permit of the rate limit; it was not sent", List.of())));
    return permitted.future();
  }

  @Override
  public <P> P proxy(String service, Class<P> api) {
    return proxy(service, api, CallOptions.create());
  }

  @Override
  public <P> P proxy(String service, Class<P> api, CallOptions options) {
    Objects.requireNonNull(service, "service");
    if (api == null || !api.isInterface()) {
      throw new IllegalArgumentException("proxy() needs an interface, got " + api);
    }
    CallOptions base = options == null ? CallOptions.create() : options;
    InvocationHandler handler = (proxy, method, args) -> invokeProxy(service, base, proxy, method, args);
    return api.cast(Proxy.newProxyInstance(api.getClassLoader(), new Class<?>[]{api}, handler));
  }

  private Object invokeProxy(String service, CallOptions base, Object proxy, Method method, Object[] args)
    throws Throwable {
    if (method.getDeclaringClass() == Object.class) {
      return switch (method.getName()) {
        case "equals" -> proxy == args[0];
        case "hashCode" -> System.identityHashCode(proxy);
        default -> "SagebusProxy[" + environment + "/" + service + "]";
      };
    }
    if (method.isDefault()) {
      return invokeDefault(proxy, method, args);
    }
    Object[] callArgs = args == null ? new Object[0] : args;
    Class<?> raw = method.getReturnType();
    Type generic = method.getGenericReturnType();
    boolean future = Future.class.isAssignableFrom(raw);
    boolean stage = !future && CompletionStage.class.isAssignableFrom(raw);
    CallOptions opts = base.withMethod(method.getName());
    if (future || stage) {
      if (generic instanceof ParameterizedType pt) {
        opts = withResult(opts, pt.getActualTypeArguments()[0]);
      }
      Future<Object> f = callAsync(service, opts, callArgs);
      return stage ? f.toCompletionStage() : f;
    }
    if (raw == void.class || raw == Void.class) {
      call(service, opts, callArgs);
      return null;
    }
    return call(service, withResult(opts, generic), callArgs);
  }

  private static Object invokeDefault(Object proxy, Method method, Object[] args) throws Throwable {
    try {
      return InvocationHandler.invokeDefault(proxy, method, args);
    } catch (IllegalAccessException e) {
      // A non-public interface: reach its default method through a private lookup (the unnamed module is open).
      Class<?> api = method.getDeclaringClass();
      return MethodHandles.privateLookupIn(api, MethodHandles.lookup())
        .unreflectSpecial(method, api)
        .bindTo(proxy)
        .invokeWithArguments(args == null ? new Object[0] : args);
    }
  }

  private static CallOptions withResult(CallOptions opts, Type type) {
    JavaType jt = Json.javaType(type);
    return jt.getRawClass() == Object.class ? opts
      : opts.resultType(new com.fasterxml.jackson.core.type.TypeReference<Object>() {
        @Override
        public Type getType() {
          return type;
        }
      });
  }

  @Override
  public Future<ServiceStats> stats(String service) {
    ServiceRegistry reg = registry();
    if (reg == null || reg.get(service) == null) {
      return Future.failedFuture(notFound(service, reg));
    }
    return vertx.eventBus().<JsonObject>request(Protocol.managerAddress(environment),
        new JsonObject().put("action", "stats").put("service", service))
      .map(msg -> ServiceStats.fromJson(msg.body()));
  }

  private ServiceNotFoundException notFound(String service, ServiceRegistry reg) {
    return new ServiceNotFoundException(service, environment, reg == null ? List.of() : reg.names());
  }

  /** One call: its attempts, backoff and single outcome; its own handle when nothing stands between it and its caller. */
  private final class Call<T> implements CallHandle<T>, Cancellation.Listener, DirectCalls.Attempt {
    final String service;
    final String method;
    final JsonArray args;
    final String requestId;
    final String from;
    final long budgetMillis;
    final long deadline;
    final RetryPolicy policy;
    final JavaType resultType;
    final ServiceMetrics metrics;
    final ResourceTracker tracker;
    final Promise<T> promise = Promise.promise();
    final String address;
    int attempts;
    /** Set before the first attempt leaves: from then on, a cancel is also sent to the instances. */
    volatile boolean sent;
    int consumerWaits;
    /** Whether the next send is the first attempt, made as the call starts (its budget is all left). */
    boolean immediate = true;
    /** Whether this call asked the manager to start its service already. */
    boolean startAsked;
    /** Whether this call asked the cluster for a replica already. */
    boolean replicaAsked;
    String lastProblem = "no answer";
    /** Its spans, or {@code null} when tracing is off. */
    Tracing.CallTrace trace;
    /** Its service's direct path when the call may take it, else {@code null} (the bus). */
    DirectCalls direct;
    /** Whether its end-of-call work is armed already ({@link #arm()}). */
    boolean armed;
    /** {@link #RUNNING}, {@link #ARMED} (its end-of-call work runs as it ends) or {@link #ENDED}. */
    volatile int state;
    /** The thread waiting for its outcome in {@link #await()} with no context, woken as it ends; or {@code null}. */
    volatile Thread waiter;
    /** The meters that count it when it ends, or {@code null}. */
    ServiceOps endMeters;
    /** When it started, for {@link #endMeters}. */
    long endStarted;
    /** The cancellation it leaves when it ends (an async call's), or {@code null}. */
    Cancellation endLeaves;
    /** Where {@link #endLeaves} holds it. */
    int endWhere;
    /** For a sync call: the cancellation it follows, which its caller leaves once it has the outcome; else null. */
    Cancellation followed;
    /** Where {@link #followed} holds it. */
    int where;
    /** The attempt in flight's span, or {@code null} (tracing off); attempts are sent one after another. */
    Tracing.Attempt attemptTrace;
    /** Whether the attempt in flight was given the call's whole budget. */
    boolean wholeBudget;

    Call(String service, String method, JsonArray args, String requestId, String from, long budgetMillis,
         RetryPolicy policy, JavaType resultType, ServiceMetrics metrics, ResourceTracker tracker, String address) {
      this.service = service;
      this.method = method;
      this.args = args;
      this.requestId = requestId;
      this.from = from;
      this.budgetMillis = budgetMillis;
      this.deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budgetMillis);
      this.policy = policy;
      this.resultType = resultType;
      this.metrics = metrics;
      this.tracker = tracker;
      this.address = address;
    }

    long remainingMillis() {
      return TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    }

    /**
     * {@return whether something is done once it has its outcome (the caller-side meters, leaving the cancellation it
     * follows): then the call itself listens to its outcome ({@link #complete(Object, Throwable)}), one listener for both}
     */
    boolean ending() {
      return endMeters != null || endLeaves != null;
    }

    /** When it ends, it is counted in the caller-side meters, as started at {@code started}. */
    void meterAtEnd(ServiceOps ops, long started) {
      endMeters = ops;
      endStarted = started;
    }

    /** When it ends, it leaves the cancellation it follows, where that holds it. */
    void leaveAtEnd(Cancellation followed, int where) {
      endLeaves = followed;
      endWhere = where;
    }

    /**
     * Its end-of-call work is set ({@link #ending()}): it runs as the call ends, before the call's listeners hear the
     * outcome; or, when the call has ended already, once the outcome is there. Called once, by the starting thread.
     */
    void arm() {
      armed = true;
      if (!CALL_STATE.compareAndSet(this, RUNNING, ARMED)) {
        promise.future().onComplete((r, failure) -> endWork(failure)); // ended as it started: rare
      }
    }

    /** Its end-of-call work: the caller-side meters, leaving the cancellation it followed. */
    private void endWork(Throwable failure) {
      if (endMeters != null) {
        endMeters.callEnded(method, endStarted, attempts, failure);
      }
      if (endLeaves != null) {
        endLeaves.remove(this, endWhere);
      }
    }

    /** {@return whether it has its outcome, or is being given it} */
    boolean ended() {
      return state == ENDED;
    }

    /** Ends the call with a result, unless it has ended: {@return whether this was its outcome} */
    boolean succeedWith(T result) {
      return finish(result, null);
    }

    /** Ends the call with a failure, unless it has ended: {@return whether this was its outcome} */
    boolean failWith(Throwable failure) {
      return finish(null, failure);
    }

    /**
     * The one way the call ends: the first outcome wins; its end-of-call work, when armed, runs before the listeners
     * (with no listener of its own on the promise, a caller's listener is the promise's only one, which Vert.x keeps
     * without a list).
     */
    private boolean finish(T result, Throwable failure) {
      int s;
      do {
        s = state;
        if (s == ENDED) {
          return false;
        }
      } while (!CALL_STATE.compareAndSet(this, s, ENDED));
      if (s == ARMED) {
        endWork(failure);
      }
      try {
        return failure == null ? promise.tryComplete(result) : promise.tryFail(failure);
      } finally {
        // Read after the outcome is there (a waiter that looks before finds a thread to wake), even when a listener threw.
        Thread w = waiter;
        if (w != null) {
          LockSupport.unpark(w);
        }
      }
    }

    /**
     * A sync caller waits for the outcome, as {@link ThreadWait#await} does, with the call itself as what wakes it (no
     * listener on its promise): {@return the result, once there}
     */
    T await() {
      Future<T> outcome = promise.future();
      if (ContextInternal.current() != null) {
        return outcome.await();
      }
      if (Thread.interrupted()) { // as await: even when the future has completed
        throw ThreadWait.sneaky(new InterruptedException());
      }
      if (!outcome.isComplete()) {
        waiter = Thread.currentThread(); // announced before looking again: finish() reads it after completing
        ThreadWait.parkUntil(outcome, this);
      }
      return ThreadWait.outcomeOf(outcome);
    }

    /**
     * A hash for the cancellation's listener set that needs no identity hash (the JVM makes one on first use, in the
     * call path of every call that follows a cancellation). Equality stays identity.
     */
    @Override
    public int hashCode() {
      return Long.hashCode(deadline);
    }

    @Override
    public boolean equals(Object other) {
      return this == other;
    }

    @Override
    public Future<T> future() {
      return promise.future();
    }

    @Override
    public String requestId() {
      return requestId;
    }

    @Override
    public boolean cancel() {
      return cancel("cancelled by the caller");
    }

    @Override
    public void cancelled(String reason) {
      cancel(reason);
    }

    /** Sends the first attempt; {@return the call's outcome} */
    Future<T> sendNow() {
      send();
      return promise.future();
    }

    void send() {
      sent = true;
      if (ended()) {
        return; // cancelled while it waited (a permit, a retry, an instance): never sent again
      }
      // The first attempt leaves at once with the whole budget: no second clock read for it.
      long remaining = immediate ? budgetMillis : remainingMillis();
      immediate = false;
      if (remaining <= 0) {
        timedOut();
        return;
      }
      attempts++;
      long attemptTimeout = remaining;
      if (policy != null && (attempts < policy.getMaxAttempts() || vertx.isClustered())
        && !policy.getAttemptTimeout().isZero()) {
        attemptTimeout = Math.min(remaining, policy.getAttemptTimeout().toMillis());
      }
      wholeBudget = attemptTimeout == remaining;
      DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(attemptTimeout);
      attemptTrace = trace == null ? null : trace.attempt(attempts, delivery);
      // Passed by reference locally: a retryable call keeps its own arguments and sends a copy per attempt.
      CallRequest request = new CallRequest(method, policy == null ? args : args.copy(), requestId, remaining, from);
      if (direct == null) {
        vertx.eventBus().request(address, request, delivery).onComplete(this::attemptEnded);
      } else {
        direct.request(vertx, address, request, delivery, this);
      }
    }

    /**
     * The outcome of the attempt in flight (the next is sent only after it, so the fields it reads are its own).
     *
     * @param reply   the reply, or {@code null} when it failed
     * @param failure why it failed, or {@code null}
     */
    @Override
    public void attemptEnded(Message<Object> reply, Throwable failure) {
      Tracing.Attempt attempt = attemptTrace;
      if (attempt != null) {
        attempt.ended(failure == null ? Future.succeededFuture(reply) : Future.failedFuture(failure));
      }
      if (failure == null) {
        replied(reply);
      } else {
        failed(failure, wholeBudget);
      }
    }

    void replied(Message<Object> reply) {
      Object body;
      try {
        body = reply.body();
      } catch (RuntimeException e) {
        failWith(new ServiceCallException(service, method, FailureCode.BAD_RESULT, e.getClass().getName(),
          "The reply cannot be read: " + e.getMessage(), List.of()));
        return;
      }
      repliedWith(body);
    }

    /**
     * The answer of a direct attempt: its body, as the bus would have carried it in a reply.
     *
     * @param body the reply's body
     */
    @Override
    public void attemptAnswered(Object body) {
      Tracing.Attempt attempt = attemptTrace;
      if (attempt != null) {
        attempt.ended(Future.succeededFuture(DirectRequest.replyOf(address, body)));
      }
      repliedWith(body);
    }

    /** Completes the call with a reply's body: its result, converted to the type asked for. */
    private void repliedWith(Object body) {
      Object result = body instanceof CallReply r ? r.result()
        : body instanceof JsonObject json ? json.getValue(CallReply.RESULT) : body;
      if (resultType != null) {
        try {
          result = Json.fromWire(result, resultType);
        } catch (RuntimeException e) {
          failWith(new ServiceCallException(service, method, FailureCode.BAD_RESULT, e.getClass().getName(),
            "The result cannot be converted to " + resultType.toCanonical() + ": " + e.getMessage(), List.of()));
          return;
        }
      }
      @SuppressWarnings("unchecked")
      T t = (T) result;
      succeedWith(t);
    }

    void failed(Throwable cause, boolean wholeBudget) {
      if (!(cause instanceof ReplyException re)) {
        failWith(new ServiceCallException(service, method, FailureCode.SERVICE_ERROR, cause.getClass().getName(),
          cause.getMessage(), List.of()));
        return;
      }
      switch (re.failureType()) {
        case NO_HANDLERS -> noConsumer();
        case TIMEOUT -> {
          long remaining = remainingMillis();
          boolean discarded = String.valueOf(re.getMessage()).startsWith("Discarded");
          if (discarded && remaining > 0 && (vertx.isClustered() || beingReplaced())) {
            // Vert.x answers so for a request that reached a consumer being unregistered: its handler never saw it.
            // In a cluster that is a replica leaving, in one JVM an instance a redeploy replaces, and another
            // replica or instance may take the call.
            neverRan("the replica it reached was being unregistered and discarded it (" + re.getMessage() + ")");
          } else if (remaining <= 0 || (wholeBudget && !discarded)) {
            lastProblem = "no answer";
            timedOut();
          } else if (canRetryUnanswered()) {
            lastProblem = "no answer within the attempt timeout of " + policy.getAttemptTimeout().toMillis() + " ms";
            retryLater();
          } else {
            failWith(new ServiceCallException(service, method, FailureCode.STOPPING, null,
              "The request was dropped before an answer (" + re.getMessage() + "); the service may be stopping",
              List.of()));
          }
        }
        case RECIPIENT_FAILURE -> {
          FailureCode code = FailureCode.fromCode(re.failureCode());
          if (code == null) {
            failWith(new ServiceCallException(service, method, FailureCode.SERVICE_ERROR, null, re.getMessage(),
              List.of()));
          } else if (code == FailureCode.LEAVING) {
            neverRan("the replica it reached is leaving and refused it");
          } else if (code == FailureCode.OVERLOADED && canRetry()) {
            lastProblem = "overloaded";
            retryLater();
          } else if (code == FailureCode.DEADLINE_EXCEEDED) {
            // The service found the budget spent before the method began: the same type as a timeout here.
            ServiceCallException answered = Protocol.toException(service, method, code, re.getMessage());
            failWith(new ServiceTimeoutException(service, method, Duration.ofMillis(budgetMillis), attempts,
              answered.remoteMessage() != null ? answered.remoteMessage() : String.valueOf(re.getMessage())));
          } else {
            failWith(Protocol.toException(service, method, code, re.getMessage()));
          }
        }
        default -> failWith(new ServiceCallException(service, method, FailureCode.SERVICE_ERROR, null,
          re.getMessage(), List.of()));
      }
    }

    /** {@return whether this JVM replaces the service's instances now (a redeploy), or did a moment ago} */
    boolean beingReplaced() {
      ServiceRegistry reg = registry();
      ServiceRegistry.Registration registration = reg == null ? null : reg.get(service);
      return registration != null && registration.replacing();
    }

    /**
     * The attempt reached a replica that refused it before the method ran (it is leaving): sent again
     * at once, to whichever replica the bus picks, whatever the retry policy (the attempt is not counted),
     * with a short backoff should it meet leaving replicas again, until the budget is spent.
     */
    void neverRan(String problem) {
      attempts--;
      log(false, "Call to {}.{}: {}; sending it again", service, method, problem);
      waitForConsumer(problem);
    }

    boolean canRetry() {
      return policy != null && attempts < policy.getMaxAttempts() && remainingMillis() > 0;
    }

    /**
     * After an attempt with no answer. In a cluster such attempts are sent again until the budget is spent,
     * maxAttempts or not: the bus keeps routing some of them to a node that died until Hazelcast notices
     * (seconds on a loaded machine), and a call should not fail for the replica the bus picked.
     */
    boolean canRetryUnanswered() {
      return policy != null && remainingMillis() > 0 && (attempts < policy.getMaxAttempts() || vertx.isClustered());
    }

    void noConsumer() {
      attempts--;
      ServiceRegistry reg = registry();
      if (reg == null || reg.get(service) == null) {
        // The environment's own directory (handed in by its cluster); a bare client of a node finds the node's.
        ServiceDirectory directory = reg != null && reg.directory() != null ? reg.directory()
          : ServiceDirectory.lookup(vertx, environment);
        if (directory == null) {
          failWith(notFound(service, reg));
          return;
        }
        // Registered in another JVM of the cluster? Then its replicas are being placed: wait for them.
        directory.isRegistered(service).onComplete(ar -> {
          if (ar.succeeded() && ar.result()) {
            askForReplica(directory);
            waitForConsumer("service '" + service + "' is registered in the cluster but no replica is visible yet");
          } else {
            if (ar.failed()) {
              log(false, "Looking up service '{}' in the cluster failed", service, ar.cause());
            }
            failWith(notFound(service, reg));
          }
        });
        return;
      }
      if (reg.startsOnCall() && !startAsked) {
        startAsked = true;
        startService();
        return;
      }
      if (reg.directory() != null) {
        askForReplica(reg.directory()); // placed by a cluster: an autoscaled service may have none
      }
      waitForConsumer("service '" + service + "' is registered but no instance is running (deploy it with env.start() "
        + "or env.deploy(\"" + service + "\"))");
    }

    /** Asks the cluster, once per call, for a replica of a service that may have scaled down to none. */
    void askForReplica(ServiceDirectory directory) {
      if (replicaAsked) {
        return;
      }
      replicaAsked = true;
      directory.requestReplica(service).onFailure(e -> log(false, "Asking for a replica of '{}' failed", service, e));
    }

    /** Asks the deployment manager to start the registered service this call found no instance of, then sends again. */
    void startService() {
      immediate = false;
      long remaining = remainingMillis();
      if (remaining <= 0) {
        timedOut();
        return;
      }
      vertx.eventBus().<JsonObject>request(Protocol.managerAddress(environment),
          new JsonObject().put("action", "start").put("service", service),
          new DeliveryOptions().setSendTimeout(remaining))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            send();
            return;
          }
          if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
            FailureCode code = FailureCode.fromCode(re.failureCode());
            if (code == FailureCode.NOT_STARTED) {
              failWith(Protocol.toException(service, method, code, re.getMessage()));
              return;
            }
            if (code == FailureCode.SERVICE_ERROR) {
              ServiceCallException e = Protocol.toException(service, method, code, re.getMessage());
              failWith(new ServiceDeploymentException(service, e.remoteType(), e.remoteMessage()));
              return;
            }
          }
          waitForConsumer("service '" + service + "' is registered but no instance is running, and starting it "
            + "did not answer: " + ar.cause().getMessage());
        });
    }

    void waitForConsumer(String problem) {
      lastProblem = problem;
      long wait = Math.min(NO_CONSUMER_MAX_WAIT_MS, NO_CONSUMER_FIRST_WAIT_MS << Math.min(consumerWaits++, 10));
      later(Math.min(wait, Math.max(1, remainingMillis())));
    }

    void retryLater() {
      if (metrics != null) {
        metrics.retried();
      }
      long delay = Math.min(policy.backoffMillis(attempts), Math.max(0, remainingMillis()));
      log(false, "Call to {}.{} attempt {} of {}: {}; retrying in {} ms", service, method, attempts,
        policy.getMaxAttempts(), lastProblem, delay);
      later(delay);
    }

    /** Logs with this call's request id in the MDC, as the service side logs it, so both sides can be matched. */
    private void log(boolean warn, String format, Object... args) {
      if (warn ? !LOG.isWarnEnabled() : !LOG.isDebugEnabled()) {
        return;
      }
      String previous = MDC.get(Protocol.REQUEST_ID);
      MDC.put(Protocol.REQUEST_ID, requestId);
      try {
        if (warn) {
          LOG.warn(format, args);
        } else {
          LOG.debug(format, args);
        }
      } finally {
        if (previous == null) {
          MDC.remove(Protocol.REQUEST_ID);
        } else {
          MDC.put(Protocol.REQUEST_ID, previous);
        }
      }
    }

    void later(long delay) {
      immediate = false;
      Runnable cancelled = () -> failWith(new ServiceCallException(service, method, FailureCode.STOPPING, null,
        "The environment closed while the call waited to be retried", List.of()));
      if (tracker != null) {
        tracker.timer(vertx, delay, "retry of " + service + "." + method + " " + requestId, this::send, cancelled);
      } else {
        vertx.setTimer(Math.max(1, delay), id -> send());
      }
    }

    void timedOut() {
      if (ended()) {
        return;
      }
      if (metrics != null) {
        metrics.timedOut();
      }
      log(false, "Call to {}.{} timed out after {} ms ({} attempts): {}", service, method, budgetMillis, attempts,
        lastProblem);
      if (failWith(new ServiceTimeoutException(service, method, Duration.ofMillis(budgetMillis), attempts,
        lastProblem)) && attempts > 0) {
        // Nobody waits for the answer any more: the instance stops the work, and the calls it made.
        tellInstances("the caller's deadline passed (" + budgetMillis + " ms)", true);
      }
    }

    /**
     * Cancels the call, if it has no outcome yet: fails it at once, and tells the instances when an
     * attempt may be with one.
     *
     * @param reason why
     * @return whether this cancelled it
     */
    boolean cancel(String reason) {
      if (!failWith(new ServiceCancelledException(service, method, reason))) {
        return false;
      }
      log(false, "Call to {}.{} cancelled: {}", service, method, reason);
      if (sent) {
        tellInstances(reason, false);
      }
      return true;
    }

    /**
     * Publishes the cancel to every instance of the service (the one holding the request id acts). It
     * follows the request on the same path (same sender, same node connection, same consumer event
     * loop), so it never overtakes an attempt sent before it.
     */
    void tellInstances(String reason, boolean deadline) {
      vertx.eventBus().publish(Protocol.controlAddress(environment, service),
        Protocol.cancelMessage(requestId, reason, deadline));
    }
  }
}
