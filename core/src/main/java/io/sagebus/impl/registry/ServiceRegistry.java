package io.sagebus.impl.registry;

import io.sagebus.impl.call.DeadlineTimer;
import io.sagebus.impl.call.DirectCalls;

import io.sagebus.spi.ServiceDirectory;

import io.sagebus.impl.Deployments;
import io.sagebus.impl.ResourceTracker;
import io.sagebus.impl.call.ResultCache;
import io.sagebus.impl.trace.Tracing;
import io.sagebus.impl.ops.Breaker;
import io.sagebus.impl.ops.Operations;
import io.sagebus.impl.ops.ServiceMetrics;
import io.sagebus.impl.ops.ServiceOps;
import io.sagebus.impl.ops.Throttle;
import io.sagebus.impl.wire.Protocol;

import io.sagebus.CachePolicy;
import io.sagebus.CircuitBreakerPolicy;
import io.sagebus.EnvironmentOptions;
import io.sagebus.RateLimit;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The services registered in one environment of one Vertx, with their counters, and the
 * environment's resource tracker. Kept in the Vertx's local shared data under the environment
 * name, so that any code holding the Vertx finds it: there is no static registry.
 */
public final class ServiceRegistry implements Shareable {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceRegistry.class);

  /** Name of the local map holding one registry per environment. */
  static final String MAP_NAME = "sagebus.environments";

  private final String environment;
  private final EnvironmentOptions options;
  private final ResourceTracker tracker = new ResourceTracker();
  /** The attempt deadlines of its direct calls. */
  private final DeadlineTimer deadlines = new DeadlineTimer();
  private final Map<String, Registration> services = new ConcurrentHashMap<>();
  private final List<Consumer<Registration>> listeners = new CopyOnWriteArrayList<>();
  private volatile Vertx vertx;
  private volatile Operations operations;
  private final ServiceDirectory directory;
  /** The environment's spans ({@link Tracing#OFF} unless its options enable tracing). */
  private final Tracing tracing;
  /** Whether a call that finds no instance asks the manager to start the service (no cluster placement). */
  private volatile boolean startsOnCall;
  private Future<String> breakerHostDeployment;
  private Future<Context> breakerHost;
  private Future<Void> operationsClosed;

  /**
   * Creates an empty registry.
   *
   * @param environment the environment name
   * @param options     its options (copied)
   */
  public ServiceRegistry(String environment, EnvironmentOptions options) {
    this(environment, options, null);
  }

  /**
   * A registry for an environment that knows the services registered in other JVMs of its cluster.
   *
   * @param environment the environment name
   * @param options     its options (copied)
   * @param directory   the cluster's directory of services, or {@code null} outside a cluster
   * @throws IllegalStateException when the options enable tracing and no OpenTelemetry can be had
   */
  public ServiceRegistry(String environment, EnvironmentOptions options, ServiceDirectory directory) {
    this.environment = ServiceDefinition.checkName("environment", environment);
    this.options = new EnvironmentOptions(options);
    this.directory = directory;
    this.tracing = Tracing.create(environment, this.options);
  }

  /**
   * {@return the environment's tracing, {@link Tracing#OFF} unless its options enable it}
   */
  public Tracing tracing() {
    return tracing;
  }

  /**
   * {@return the cluster's directory of services registered in other JVMs, or {@code null} outside a cluster}
   */
  public ServiceDirectory directory() {
    return directory;
  }

  /**
   * Finds the registry of an environment.
   *
   * @param vertx       the Vertx
   * @param environment the environment name
   * @return its registry, or {@code null} when no such environment runs in {@code vertx}
   */
  public static ServiceRegistry lookup(Vertx vertx, String environment) {
    return map(vertx).get(environment);
  }

  private static LocalMap<String, ServiceRegistry> map(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP_NAME);
  }

  /**
   * Publishes this registry in {@code vertx}.
   *
   * @param vertx the Vertx
   * @throws IllegalStateException when another environment of the same name is there
   */
  public void install(Vertx vertx) {
    ServiceRegistry existing = map(vertx).putIfAbsent(environment, this);
    if (existing != null && existing != this) {
      throw new IllegalStateException("This Vertx already has a Sagebus environment named '" + environment
        + "': close it first, or choose another name");
    }
    if (operations == null) {
      this.vertx = vertx;
      this.operations = Operations.of(vertx);
    }
  }

  /**
   * Removes this registry from {@code vertx}, if it is the one published there.
   *
   * @param vertx the Vertx
   */
  public void uninstall(Vertx vertx) {
    if (lookup(vertx, environment) == this) {
      closeOperations(); // before the name is free for another environment, whose meters it would remove
      map(vertx).removeIfPresent(environment, this);
    }
  }

  /**
   * {@return whether this registry is the one published in its Vertx now (its environment is open)}
   */
  public boolean installed() {
    Vertx v = vertx;
    return v != null && lookup(v, environment) == this;
  }

  /**
   * Closes what operations keep for this environment: its circuit breakers (the host their
   * reset timers run on is undeployed) and its meters. Idempotent.
   *
   * @return completes when the breakers' host is undeployed
   */
  public synchronized Future<Void> closeOperations() {
    if (operationsClosed != null) {
      return operationsClosed;
    }
    services.values().forEach(Registration::closeCache);
    deadlines.close();
    tracing.close();
    Operations ops = operations;
    if (ops != null) {
      ops.closeEnvironment(environment);
    }
    if (breakerHostDeployment == null) {
      operationsClosed = Future.succeededFuture();
    } else {
      Vertx v = vertx;
      operationsClosed = breakerHostDeployment
        .compose(id -> v.deploymentIDs().contains(id) ? v.undeploy(id) : Future.succeededFuture())
        .recover(e -> {
          LOG.debug("Environment '{}': undeploying the circuit breakers' host", environment, e);
          return Future.succeededFuture();
        });
    }
    return operationsClosed;
  }

  /** The context circuit breakers run on: deployed on first use, undeployed by {@link #closeOperations()}. */
  private synchronized Future<Context> breakerHost() {
    if (operationsClosed != null) {
      return Future.failedFuture(new IllegalStateException("Environment '" + environment + "' is closed"));
    }
    if (breakerHost == null) {
      BreakerHost host = new BreakerHost();
      // Detached: deployed from a caller's verticle (a job's operator) it would be its child, undeployed with it.
      breakerHostDeployment = Deployments.deployDetached(vertx, host, new DeploymentOptions());
      breakerHost = breakerHostDeployment.map(id -> host.context());
    }
    return breakerHost;
  }

  /** An empty verticle whose context hosts the environment's circuit breakers and their timers. */
  private static final class BreakerHost extends VerticleBase {
    Context context() {
      return context;
    }
  }

  /**
   * Calls {@code listener} for every service registered from now on.
   *
   * @param listener called with each new registration
   */
  public void onRegister(Consumer<Registration> listener) {
    listeners.add(listener);
  }

  /**
   * {@return whether a call that finds no instance of a registered service asks the deployment
   * manager to start it (a single-JVM environment), rather than waiting for replicas being placed}
   */
  public boolean startsOnCall() {
    return startsOnCall;
  }

  /**
   * Says whether calls that find no instance ask the manager to start the service.
   *
   * @param startsOnCall {@code true} in a single-JVM environment, {@code false} when a cluster places the services
   */
  public void startsOnCall(boolean startsOnCall) {
    this.startsOnCall = startsOnCall;
  }

  /**
   * {@return the environment name}
   */
  public String environment() {
    return environment;
  }

  /**
   * {@return the environment's options}
   */
  public EnvironmentOptions options() {
    return options;
  }

  /**
   * {@return the environment's resource tracker}
   */
  public ResourceTracker tracker() {
    return tracker;
  }

  /**
   * {@return its registration}
   *
   * @param definition a validated definition
   * @throws IllegalArgumentException when the name is taken
   */
  public Registration register(ServiceDefinition definition) {
    return register(definition, false);
  }

  /**
   * {@return its registration}
   *
   * @param definition a validated definition
   * @param pipeline   whether it is a pipeline served as a service (jobs do not deploy those: one would wait for itself)
   * @throws IllegalArgumentException when the name is taken
   */
  public Registration register(ServiceDefinition definition, boolean pipeline) {
    Registration reg = new Registration(definition, new ServiceMetrics(), pipeline);
    Registration prev = services.putIfAbsent(definition.name(), reg);
    if (prev != null) {
      throw new IllegalArgumentException("Service '" + definition.name() + "' is already registered in environment '"
        + environment + "' (as " + prev.definition().typeName() + "): choose another name");
    }
    for (Consumer<Registration> listener : listeners) {
      listener.accept(reg);
    }
    return reg;
  }

  /**
   * Replaces a service's registration with another definition of the same name (a redeploy): calls made
   * from now on take the new options; the service's statistics carry over; its result cache and its
   * callers' circuit breaker start afresh. Announced to the {@link #onRegister} listeners as a
   * registration is.
   *
   * @param definition a validated definition of a registered name
   * @return the new registration
   * @throws IllegalArgumentException when no service of that name is registered, or it is a pipeline served as a
   *                                  service (its instances run a job: register it under another name)
   */
  public Registration replace(ServiceDefinition definition) {
    String name = definition.name();
    Registration previous = services.get(name);
    if (previous == null) {
      throw new IllegalArgumentException("No service '" + name + "' is registered in environment '" + environment
        + "' to redeploy; registered: " + names());
    }
    if (previous.pipeline) {
      throw new IllegalArgumentException("Service '" + name + "' is a pipeline served as a service: it cannot be "
        + "redeployed; serve the new pipeline under another name");
    }
    Registration reg = new Registration(definition, previous.metrics, false);
    if (!services.replace(name, previous, reg)) {
      throw new IllegalStateException("Service '" + name + "' was redeployed by another thread at the same time: "
        + "redeploy it again");
    }
    synchronized (this) {
      previous.closeCache();
    }
    ServiceOps o = previous.ops;
    if (o != null) {
      o.dropBreaker();
    }
    for (Consumer<Registration> listener : listeners) {
      listener.accept(reg);
    }
    return reg;
  }

  /**
   * {@return its registration, or {@code null}}
   *
   * @param service a service name
   */
  public Registration get(String service) {
    return services.get(service);
  }

  /**
   * {@return the registered names, sorted}
   */
  public List<String> names() {
    return services.keySet().stream().sorted().toList();
  }

  /** How long after a roll of a service's instances a discarded request is still taken for one of its leaving instances. */
  public static final long ROLL_GRACE_MS = 5_000;

  /**
   * A registered service, its counters and its operations state.
   */
  public final class Registration {
    private final ServiceDefinition definition;
    private final ServiceMetrics metrics;
    private volatile ServiceOps ops;
    private volatile Breaker breaker;
    private volatile ResultCache cache;
    private final boolean pipeline;
    private final Throttle throttle;
    private final String address;
    /** Rolls of its instances under way in this JVM. */
    private final java.util.concurrent.atomic.AtomicInteger rolls = new java.util.concurrent.atomic.AtomicInteger();
    /** When the last roll ended ({@link System#nanoTime()}), or 0. */
    private volatile long rolledAt;
    private final DirectCalls direct;

    Registration(ServiceDefinition definition, ServiceMetrics metrics, boolean pipeline) {
      this.definition = definition;
      this.metrics = metrics;
      this.pipeline = pipeline;
      this.address = Protocol.serviceAddress(environment, definition.name());
      this.direct = new DirectCalls(deadlines);
      RateLimit limit = definition.options().getRateLimit();
      this.throttle = limit == null ? null : new Throttle(limit);
    }

    /**
     * {@return the event-bus address of its instances}
     */
    public String address() {
      return address;
    }

    /**
     * {@return the callers' rate limit in this JVM, or {@code null} when its options ask for none}
     */
    public Throttle throttle() {
      return throttle;
    }

    /**
     * Marks a roll of this registration's instances in this JVM as begun ({@link #replacing()}).
     */
    public void rollBegins() {
      rolls.incrementAndGet();
    }

    /**
     * Marks a roll begun by {@link #rollBegins()} as over.
     */
    public void rollEnds() {
      rolledAt = System.nanoTime();
      rolls.decrementAndGet();
    }

    /**
     * {@return whether its instances in this JVM are being replaced, or were in the last {@link #ROLL_GRACE_MS} ms}
     * A request Vert.x discarded then reached an old instance as its consumer went: it never ran, and the
     * caller sends it again to a new one.
     */
    public boolean replacing() {
      long at = rolledAt;
      return rolls.get() > 0 || (at != 0 && System.nanoTime() - at < java.util.concurrent.TimeUnit.MILLISECONDS
        .toNanos(ROLL_GRACE_MS));
    }

    /**
     * {@return its direct path: the instances the environment deployed in this JVM, which take calls from this JVM
     * without the event bus}
     */
    public DirectCalls direct() {
      return direct;
    }

    /**
     * {@return whether it is a pipeline served as a service, which jobs do not deploy}
     */
    public boolean pipeline() {
      return pipeline;
    }

    /**
     * {@return what was registered}
     */
    public ServiceDefinition definition() {
      return definition;
    }

    /**
     * {@return its counters in this JVM}
     */
    public ServiceMetrics metrics() {
      return metrics;
    }

    /**
     * {@return its operations state (meters, instances, breaker), or {@code null} before the registry is installed in a Vertx}
     */
    public ServiceOps ops() {
      ServiceOps o = ops;
      if (o == null) {
        Operations all = operations;
        if (all == null) {
          return null;
        }
        o = all.service(environment, definition.name());
        ops = o;
      }
      return o;
    }

    /**
     * {@return the callers' circuit breaker, made on first use; {@code null} when its options ask for none,
     * or once the environment is closed}
     */
    public Breaker breaker() {
      Breaker b = breaker;
      if (b != null) {
        return b;
      }
      CircuitBreakerPolicy policy = definition.options().getCircuitBreaker();
      ServiceOps o = policy == null ? null : ops();
      if (o == null) {
        return null;
      }
      b = o.breaker(() -> new Breaker(vertx, environment, definition.name(), policy, breakerHost(), tracker));
      breaker = b;
      return b;
    }

    /**
     * {@return the callers' result cache in this JVM, made on first use; {@code null} when its options ask for none,
     * or once the environment is closed}
     */
    public ResultCache resultCache() {
      ResultCache c = cache;
      if (c != null) {
        return c;
      }
      CachePolicy policy = definition.options().getCache();
      if (policy == null) {
        return null;
      }
      synchronized (ServiceRegistry.this) {
        if (operationsClosed != null) {
          return null;
        }
        if (cache == null) {
          ResultCache made = new ResultCache(policy);
          ServiceOps o = ops();
          if (o != null) {
            o.cacheMade(made::size);
          }
          cache = made;
        }
        return cache;
      }
    }

    /** Drops the result cache; called with the registry's lock held, as the environment closes. */
    private void closeCache() {
      ResultCache c = cache;
      cache = null;
      if (c != null) {
        c.close();
      }
    }
  }
}
