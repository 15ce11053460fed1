package io.sagebus.impl.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.sagebus.CircuitOpenException;
import io.sagebus.FailureCode;
import io.sagebus.ServiceCallException;
import io.sagebus.ServiceTimeoutException;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Context;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Operations state of one service of one environment in one Vertx: its Micrometer meters (service
 * side and caller side), the states of its instances here, and its callers' circuit breaker.
 * <p>
 * Tags never carry unbounded values: a method tag is a method the service class really has (known
 * from a local instance, or proven by an answer of the service), else {@value #UNKNOWN}. Meter
 * handles are made once per method and kept, so a call never looks a meter up in the registry.
 */
public final class ServiceOps {

  /** The tag value of a method the service is not known to have. */
  public static final String UNKNOWN = "_unknown";
  /** The code tag of a call that ran out of time at the caller. */
  public static final String TIMEOUT = "TIMEOUT";
  /** The code tag of a call that failed at the caller for another reason. */
  public static final String OTHER = "OTHER";

  /** What an instance of the service is doing. */
  public enum TaskState {
    /** Deploying: its consumer is not registered yet. */
    STARTING,
    /** Consuming requests. */
    RUNNING,
    /** Undeploying: draining, then stopping. */
    STOPPING
  }

  /** Answers that only a running instance gives for a method it has: proof the method exists. */
  private static final Set<FailureCode> PROOF = EnumSet.of(FailureCode.BAD_ARGUMENTS, FailureCode.SERVICE_ERROR,
    FailureCode.OVERLOADED, FailureCode.BAD_RESULT);
  private static final int CODES = FailureCode.values().length;

  private final MeterRegistry registry;
  private final String environment;
  private final String service;
  private final Tags tags;
  private final Map<Object, Instance> instances = new ConcurrentHashMap<>();
  private final Set<String> knownMethods = ConcurrentHashMap.newKeySet();
  private final Map<String, ServerMeters> server = new ConcurrentHashMap<>();
  private final Map<String, ClientMeters> client = new ConcurrentHashMap<>();
  private final AtomicInteger clientInFlight = new AtomicInteger();
  private final Map<String, Counter[]> cacheCounters = new ConcurrentHashMap<>();
  private final List<Meter> meters = new CopyOnWriteArrayList<>();
  private volatile Breaker breaker;
  /** Whether the circuit-state gauge is registered (once, whatever breakers come and go). */
  private boolean breakerGauge;
  private volatile Timer throttleWait;
  private volatile boolean closed;

  ServiceOps(MeterRegistry registry, String environment, String service) {
    this.registry = registry;
    this.environment = environment;
    this.service = service;
    this.tags = Tags.of("env", environment, "service", service);
    if (registry != null) {
      for (TaskState state : TaskState.values()) {
        meters.add(Gauge.builder("sagebus.service.instances", this, o -> o.count(state))
          .description("Instances of the service in this JVM, by state").tags(tags).tag("state", state.name().toLowerCase(Locale.ROOT))
          .strongReference(true).register(registry));
      }
      meters.add(Gauge.builder("sagebus.service.queued", this, ServiceOps::queued)
        .description("Calls waiting for a free slot in the instances of this JVM").tags(tags)
        .strongReference(true).register(registry));
      meters.add(Gauge.builder("sagebus.client.inflight", clientInFlight, AtomicInteger::get)
        .description("Calls from this JVM waiting for their answer").tags(tags).strongReference(true).register(registry));
    }
  }

  /**
   * {@return whether meters are recorded (the Vertx has a Micrometer registry)}
   */
  public boolean metricsEnabled() {
    return registry != null;
  }

  /**
   * {@return the environment name}
   */
  public String environment() {
    return environment;
  }

  /**
   * {@return the service name}
   */
  public String service() {
    return service;
  }

  // ---- instances ----

  /**
   * Records the state of an instance of this service.
   *
   * @param task   the instance
   * @param state  its state
   * @param loop   its event-loop context, or {@code null} before it has one
   * @param queued reads its queue length
   */
  public void instance(Object task, TaskState state, Context loop, IntSupplier queued) {
    instances.put(task, new Instance(state, loop, queued));
  }

  /**
   * Forgets an instance that stopped or failed to start.
   *
   * @param task the instance
   */
  public void instanceGone(Object task) {
    instances.remove(task);
  }

  /**
   * {@return how many instances here are in {@code state}}
   *
   * @param state a state
   */
  public int count(TaskState state) {
    int n = 0;
    for (Instance i : instances.values()) {
      if (i.state == state) {
        n++;
      }
    }
    return n;
  }

  /**
   * {@return instance counts by state}
   */
  public Map<TaskState, Integer> counts() {
    Map<TaskState, Integer> counts = new EnumMap<>(TaskState.class);
    for (TaskState s : TaskState.values()) {
      counts.put(s, 0);
    }
    for (Instance i : instances.values()) {
      counts.merge(i.state, 1, Integer::sum);
    }
    return counts;
  }

  /**
   * {@return the event-loop contexts of the running instances}
   */
  public List<Context> runningLoops() {
    List<Context> loops = new ArrayList<>();
    for (Instance i : instances.values()) {
      if (i.state == TaskState.RUNNING && i.loop != null) {
        loops.add(i.loop);
      }
    }
    return loops;
  }

  private int queued() {
    int n = 0;
    for (Instance i : instances.values()) {
      n += i.queued.getAsInt();
    }
    return n;
  }

  private record Instance(TaskState state, Context loop, IntSupplier queued) {
  }

  // ---- circuit breaker ----

  /**
   * {@return the callers' circuit breaker, made by {@code factory} on first use; {@code null} once closed}
   *
   * @param factory makes the breaker
   */
  public Breaker breaker(Supplier<Breaker> factory) {
    Breaker b = breaker;
    if (b == null) {
      synchronized (this) {
        if (closed) {
          return null;
        }
        b = breaker;
        if (b == null) {
          b = factory.get();
          breaker = b;
          if (registry != null && !breakerGauge) {
            // Reads the breaker of the moment: a redeploy may replace it (dropBreaker).
            breakerGauge = true;
            meters.add(Gauge.builder("sagebus.circuit.state", this, ServiceOps::circuitValue)
              .description("Circuit breaker of the callers in this JVM: 0 closed, 1 half-open, 2 open").tags(tags)
              .strongReference(true).register(registry));
          }
        }
      }
    }
    return b;
  }

  /**
   * Drops the callers' circuit breaker, closing it, so that the next call makes one from the service's
   * registration of the moment (a redeploy that changed its policy). Does nothing when there is none.
   */
  public void dropBreaker() {
    Breaker b;
    synchronized (this) {
      b = breaker;
      breaker = null;
    }
    if (b != null) {
      b.close();
    }
  }

  private static double circuitValue(ServiceOps ops) {
    Breaker b = ops.breaker;
    return b == null ? 0 : stateValue(b);
  }

  private static double stateValue(Breaker b) {
    return switch (b.state()) {
      case CLOSED -> 0;
      case HALF_OPEN -> 1;
      case OPEN -> 2;
    };
  }

  /**
   * {@return the state of the callers' circuit breaker, or {@code null} when the service has none here}
   */
  public CircuitBreakerState circuitState() {
    Breaker b = breaker;
    return b == null ? null : b.state();
  }

  /**
   * Closes the circuit breaker and removes the meters from the registry.
   */
  void close() {
    Breaker b;
    synchronized (this) {
      closed = true;
      b = breaker;
    }
    if (b != null) {
      b.close();
    }
    if (registry != null) {
      meters.forEach(registry::remove);
      meters.clear();
    }
  }

  // ---- rate limit ----

  /**
   * A caller's call was admitted by the service's rate limit: records how long it waits for its permit.
   *
   * @param nanos the wait, 0 when a permit was free
   */
  public void throttleWaited(long nanos) {
    if (registry == null || closed) {
      return;
    }
    Timer t = throttleWait;
    if (t == null) {
      // A race makes the same meter twice: Micrometer returns the registered one.
      t = Timer.builder("sagebus.client.throttle.wait")
        .description("Time a call from this JVM waited for a permit of the service's rate limit (0 when one was free)")
        .tags(tags).publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(50_000))
        .maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
      meters.add(t);
      throttleWait = t;
    }
    t.record(nanos, TimeUnit.NANOSECONDS);
  }

  // ---- service side ----

  /**
   * Records the callable methods of the service class and makes their service-side meters.
   *
   * @param methods the names of the callable methods
   * @return the meters of each method, plus {@value #UNKNOWN}; {@code null} when metrics are off
   */
  public Map<String, ServerMeters> serverMeters(Collection<String> methods) {
    knownMethods.addAll(methods);
    if (registry == null) {
      return null;
    }
    Map<String, ServerMeters> map = new HashMap<>();
    for (String m : methods) {
      map.put(m, server.computeIfAbsent(m, ServerMeters::new));
    }
    map.put(UNKNOWN, server.computeIfAbsent(UNKNOWN, ServerMeters::new));
    return map;
  }

  private Timer timer(String name, String description, String method) {
    Timer t = Timer.builder(name).description(description).tags(tags).tag("method", method)
      .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(50_000))
      .maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
    meters.add(t);
    return t;
  }

  private Counter counter(String name, String description, String method) {
    Counter c = Counter.builder(name).description(description).tags(tags).tag("method", method).register(registry);
    meters.add(c);
    return c;
  }

  private Counter errorCounter(String name, String method, String code) {
    Counter c = Counter.builder(name).description("Calls answered with a failure, by code").tags(tags)
      .tag("method", method).tag("code", code).register(registry);
    meters.add(c);
    return c;
  }

  /**
   * Service-side meters of one method. The request counter exists from the start; the timers and
   * the in-flight gauge appear with the first call that runs, so methods never called (and the
   * {@value #UNKNOWN} bucket, which never runs) add no histogram to the scrape.
   */
  public final class ServerMeters {
    private final String method;
    private final Counter requests;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicReferenceArray<Counter> errors = new AtomicReferenceArray<>(CODES);
    private volatile Timer queueWait;
    private volatile Timer execution;
    private volatile DistributionSummary batchSize;
    private volatile Timer batchWait;

    ServerMeters(String method) {
      this.method = method;
      requests = counter("sagebus.service.requests", "Requests received by the instances in this JVM", method);
    }

    private Timer queueWait() {
      Timer t = queueWait;
      if (t == null) {
        // A race makes the same meter twice: Micrometer returns the registered one.
        t = timer("sagebus.service.queue.wait", "Time a call waited for a free slot before it ran", method);
        meters.add(Gauge.builder("sagebus.service.inflight", inFlight, AtomicInteger::get)
          .description("Calls executing now in the instances of this JVM").tags(tags).tag("method", method)
          .strongReference(true).register(registry));
        queueWait = t;
      }
      return t;
    }

    private Timer execution() {
      Timer t = execution;
      if (t == null) {
        t = timer("sagebus.service.execution", "Time a call ran in the service method", method);
        execution = t;
      }
      return t;
    }

    /**
     * A batch of this (batched) method began.
     *
     * @param size       its items
     * @param waitsNanos each item's wait from its arrival to now
     */
    public void batch(int size, long[] waitsNanos) {
      DistributionSummary s = batchSize;
      Timer w = batchWait;
      if (s == null) {
        // A race makes the same meters twice: Micrometer returns the registered ones.
        s = DistributionSummary.builder("sagebus.service.batch.size").description("Items per invocation of a "
          + "batched method").baseUnit("items").tags(tags).tag("method", method).publishPercentileHistogram()
          .minimumExpectedValue(1.0).maximumExpectedValue((double) io.sagebus.BatchPolicy.MAX_SIZE_LIMIT)
          .register(registry);
        meters.add(s);
        w = timer("sagebus.service.batch.wait", "Time an item of a batched method waited, from its arrival to "
          + "the start of its batch", method);
        batchWait = w;
        batchSize = s;
      }
      s.record(size);
      for (int i = 0; i < size; i++) {
        w.record(waitsNanos[i], TimeUnit.NANOSECONDS);
      }
    }

    /** A request arrived. */
    public void request() {
      requests.increment();
    }

    /**
     * A call begins to run.
     *
     * @param waitedNanos how long it waited for a slot
     */
    public void started(long waitedNanos) {
      inFlight.incrementAndGet();
      queueWait().record(waitedNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * A call finished running.
     *
     * @param ranNanos how long it ran
     */
    public void ended(long ranNanos) {
      inFlight.decrementAndGet();
      execution().record(ranNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * A call was answered with a failure.
     *
     * @param code why
     */
    public void error(FailureCode code) {
      Counter c = errors.get(code.ordinal());
      if (c == null) {
        c = errorCounter("sagebus.service.errors", method, code.name());
        errors.set(code.ordinal(), c);
      }
      c.increment();
    }
  }

  // ---- caller side ----

  /**
   * A caller in this JVM sends a call: counts it in flight.
   */
  public void callStarted() {
    clientInFlight.incrementAndGet();
  }

  /**
   * A caller's call ended.
   *
   * @param method      the method it named
   * @param startNanos  when it began ({@link System#nanoTime()})
   * @param attempts    how many attempts were sent
   * @param failure     why it failed, or {@code null} when it succeeded
   */
  public void callEnded(String method, long startNanos, int attempts, Throwable failure) {
    clientInFlight.decrementAndGet();
    if (registry == null) {
      return;
    }
    long nanos = System.nanoTime() - startNanos;
    ClientMeters m = method == null ? null : client.get(method); // one lookup once the method is known
    if (m == null) {
      boolean proven = failure == null
        || failure instanceof ServiceCallException e && !(e instanceof CircuitOpenException) && PROOF.contains(e.code());
      boolean known = method != null && (proven || knownMethods.contains(method));
      if (known) {
        knownMethods.add(method);
      }
      m = client.computeIfAbsent(known ? method : UNKNOWN, ClientMeters::new);
    }
    m.calls.increment();
    m.latency.record(nanos, TimeUnit.NANOSECONDS);
    if (attempts > 1) {
      m.retries.increment(attempts - 1);
    }
    if (failure != null) {
      m.error(failure instanceof ServiceTimeoutException ? CODES
        : failure instanceof ServiceCallException e ? e.code().ordinal() : CODES + 1);
    }
  }

  // ---- result cache (caller side) ----

  /** The {@code result} tag values of {@code sagebus.client.cache}, in the order of the counters. */
  private static final String[] CACHE_RESULTS = {"hit", "miss", "coalesced"};

  /**
   * Shows the size of the callers' result cache of this service as a gauge.
   *
   * @param size reads the number of entries
   */
  public void cacheMade(java.util.function.LongSupplier size) {
    if (registry != null) {
      meters.add(Gauge.builder("sagebus.client.cache.size", size, s -> s.getAsLong())
        .description("Entries in the callers' result cache of this JVM, results and calls in flight").tags(tags)
        .strongReference(true).register(registry));
    }
  }

  /**
   * A call to a cached method ended.
   *
   * @param method    the method it named
   * @param outcome   0 answered from the cache, 1 sent, 2 shared an equal call in flight
   * @param succeeded whether it succeeded (which proves the method exists)
   */
  public void cacheEnded(String method, int outcome, boolean succeeded) {
    if (registry == null) {
      return;
    }
    Counter[] counters = cacheCounters.get(method);
    if (counters == null) {
      boolean known = succeeded || knownMethods.contains(method);
      if (known) {
        knownMethods.add(method);
      }
      counters = cacheCounters.computeIfAbsent(known ? method : UNKNOWN, m -> {
        Counter[] made = new Counter[CACHE_RESULTS.length];
        for (int i = 0; i < made.length; i++) {
          made[i] = Counter.builder("sagebus.client.cache").description("Calls to a cached method, by how the cache "
            + "answered them").tags(tags).tag("method", m).tag("result", CACHE_RESULTS[i]).register(registry);
          meters.add(made[i]);
        }
        return made;
      });
    }
    counters[outcome].increment();
  }

  /** Caller-side meters of one method. */
  private final class ClientMeters {
    private final String method;
    private final Counter calls;
    private final Timer latency;
    private final Counter retries;
    private final AtomicReferenceArray<Counter> errors = new AtomicReferenceArray<>(CODES + 2);

    ClientMeters(String method) {
      this.method = method;
      calls = counter("sagebus.client.calls", "Calls made from this JVM that ended", method);
      latency = timer("sagebus.client.latency", "Time from a call to its outcome at the caller, retries included", method);
      retries = counter("sagebus.client.retries", "Attempts sent again by a retry policy", method);
    }

    void error(int index) {
      Counter c = errors.get(index);
      if (c == null) {
        String code = index < CODES ? FailureCode.values()[index].name() : index == CODES ? TIMEOUT : OTHER;
        c = errorCounter("sagebus.client.errors", method, code);
        errors.set(index, c);
      }
      c.increment();
    }
  }
}
