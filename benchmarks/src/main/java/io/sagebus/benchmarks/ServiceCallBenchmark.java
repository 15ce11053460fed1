package io.sagebus.benchmarks;

import io.sagebus.CallOptions;
import io.sagebus.EnvironmentOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.sagebus.ops.SagebusMetrics;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Measures what a Sagebus service call costs over a raw Vert.x event-bus request-reply, in one
 * JVM run, on one Vertx:
 * <ol>
 *   <li>raw request-reply to an event-loop consumer echoing a small JsonObject: (1a) async with
 *       256 in flight, (1b) sequential from a virtual thread, p50/p99 latency; (1v, context only) async
 *       to the same consumer in a virtual-thread verticle, what a Vert.x user writes for a handler
 *       that may block, as a plain-value service method may, and (1bv, context only) sequential to it,
 *       beside (1b);</li>
 *   <li>Sagebus {@code callAsync} of a method returning a Vert.x Future, 256 in flight;</li>
 *   <li>Sagebus {@code callAsync} of a method returning a plain value (virtual thread), 256 in
 *       flight, with tuned options, and (3d) with the default options;</li>
 *   <li>Sagebus sync {@code call} from a virtual thread, p50/p99, beside (1b); (4p, extra) the same to
 *       a service whose only method returns a plain value, whose instance reads its requests on a
 *       virtual thread, not an event loop; (3p, extra) case 3 to that service;</li>
 *   <li>(3n, extra) Sagebus {@code callAsync} of a plain-value method declared {@code @NonBlocking}
 *       (it runs on the event loop), 256 in flight.</li>
 * </ol>
 * Each case warms up, then runs measured rounds; the median round is reported with its ratio to
 * the same run's raw baseline, and each target of the issue is printed PASS or MISS. Not a test:
 * run it by hand, {@code java -jar benchmarks/target/sagebus-benchmarks.jar --help}.
 */
public final class ServiceCallBenchmark {

  static final String ENVIRONMENT = "bench";
  static final String SERVICE = "bench";
  static final String DEFAULT_SERVICE = "bench-default";
  static final String PLAIN_SERVICE = "bench-plain";
  static final String RAW_ADDRESS = "bench.raw.echo";
  static final String RAW_VIRTUAL_ADDRESS = "bench.raw.echo.virtual";
  /** Whether the run has metrics on ({@code -Dsagebus.bench.metrics=true}); raw and Sagebus cases alike pay for them. */
  static final boolean METRICS = Boolean.getBoolean("sagebus.bench.metrics");
  /**
   * Sagebus's tracing in this run ({@code -Dsagebus.bench.tracing=}): {@code off} (default), {@code on}
   * (every call sampled, spans batched to an exporter that drops them) or {@code unsampled} (on, with a
   * sampler that records nothing: the context still travels in headers).
   */
  static final String TRACING = System.getProperty("sagebus.bench.tracing", "off");
  /**
   * Whether this run's Vertx prefers Netty's native transport ({@code -Dsagebus.bench.transport=}): {@code native}
   * (default: epoll on Linux x86_64, whose jar this module carries; NIO elsewhere) or {@code nio}. Raw and Sagebus
   * cases share the Vertx, so both run on the same transport.
   */
  static final boolean NATIVE_TRANSPORT = !"nio".equals(System.getProperty("sagebus.bench.transport", "native"));

  /** Targets from the issue. */
  static final double FUTURE_ASYNC_TARGET = 0.7;
  static final double PLAIN_ASYNC_TARGET = 0.5;
  static final double SEQUENTIAL_P50_TARGET_MICROS = 20;

  private static final CallOptions ECHO = CallOptions.method("echo");
  private static final CallOptions WHERE = CallOptions.method("where");
  private static final CallOptions FAST = CallOptions.method("fast");

  private ServiceCallBenchmark() {
  }

  /** The raw baseline's consumer: a standard verticle echoing the request body. */
  static final class RawEchoVerticle extends VerticleBase {
    volatile String thread;

    @Override
    public Future<?> start() {
      thread = Thread.currentThread().getName();
      MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(RAW_ADDRESS, m -> m.reply(m.body()));
      return consumer.completion();
    }
  }

  /**
   * The context-only baseline (1v): the same echo in a verticle deployed with the virtual-thread
   * threading model, so each message is handled, and answered, on a virtual thread.
   */
  static final class RawVirtualEchoVerticle extends VerticleBase {
    /** The event loop under the verticle's context: async callers are placed relative to it. */
    volatile String thread;

    @Override
    public Future<?> start() throws Exception {
      thread = ((io.vertx.core.internal.ContextInternal) context).nettyEventLoop()
        .submit(() -> Thread.currentThread().getName()).get();
      MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(RAW_VIRTUAL_ADDRESS, m -> m.reply(m.body()));
      return consumer.completion();
    }
  }

  /**
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Settings settings;
    try {
      settings = Settings.parse(args);
    } catch (Settings.UsageException e) {
      if (e.getMessage() != null) {
        System.err.println("error: " + e.getMessage());
      }
      (e.getMessage() == null ? System.out : System.err).printf(Settings.USAGE, Settings.CASES);
      System.exit(e.getMessage() == null ? 0 : 2);
      return;
    }
    int status = new ServiceCallBenchmark().run(settings);
    if (status != 0) {
      System.exit(status);
    }
  }

  private final Map<String, Load.Measured> results = new LinkedHashMap<>();

  private int run(Settings s) {
    ServiceOptions tuned = new ServiceOptions().setMaxConcurrency(s.maxConcurrency()).setMaxQueued(s.maxQueued());
    ServiceOptions defaults = new ServiceOptions();
    JsonObject payload = new JsonObject().put("id", 42).put("name", "sagebus").put("ok", true);
    printHeader(s, tuned, defaults, payload);

    Load.RERUNS_LEFT.set(s.maxReruns());
    // -Dsagebus.bench.metrics=true: the same run with Micrometer metrics on (Sagebus's meters and Vert.x's own).
    VertxOptions vertxOptions = new VertxOptions().setPreferNativeTransport(NATIVE_TRANSPORT);
    Vertx vertx = METRICS ? SagebusMetrics.vertxBuilder(vertxOptions).build() : Vertx.builder().with(vertxOptions).build();
    System.out.println("  transport: " + (vertx.isNativeTransportEnabled() ? "native (epoll)" : "NIO")
      + (NATIVE_TRANSPORT ? " (-Dsagebus.bench.transport=nio forces NIO)" : " (-Dsagebus.bench.transport=nio)"));
    System.out.println();
    LocalEnvironment env = null;
    io.opentelemetry.sdk.OpenTelemetrySdk sdk = null;
    int status = 0;
    List<String> drivers = new ArrayList<>();
    try {
      RawEchoVerticle raw = new RawEchoVerticle();
      Load.await(vertx.deployVerticle(raw), 30);
      RawVirtualEchoVerticle rawVirtual = new RawVirtualEchoVerticle();
      Load.await(vertx.deployVerticle(rawVirtual,
        new io.vertx.core.DeploymentOptions().setThreadingModel(io.vertx.core.ThreadingModel.VIRTUAL_THREAD)), 30);

      EnvironmentOptions envOptions = new EnvironmentOptions();
      sdk = tracingSdk(TRACING);
      if (sdk != null) {
        envOptions.setTracingEnabled(true).setOpenTelemetry(sdk);
      }
      env = LocalEnvironment.create(vertx, ENVIRONMENT, envOptions);
      env.registerService(SERVICE, BenchService.class, tuned);
      env.registerService(DEFAULT_SERVICE, BenchService.class, defaults);
      env.registerService(PLAIN_SERVICE, PlainBenchService.class, tuned);
      Load.await(env.start(), 60);
      ServiceClient client = env.services();
      String benchThread = Load.await(client.<String>callAsync(SERVICE, WHERE), 30);
      String defaultThread = Load.await(client.<String>callAsync(DEFAULT_SERVICE, WHERE), 30);
      // Every case must echo the payload; check once before timing anything.
      check("raw request-reply", Load.await(vertx.eventBus().<JsonObject>request(RAW_ADDRESS, payload), 30).body(),
        payload);
      check("raw request-reply to a virtual-thread verticle",
        Load.await(vertx.eventBus().<JsonObject>request(RAW_VIRTUAL_ADDRESS, payload), 30).body(), payload);
      check("Sagebus echo", Load.await(client.callAsync(SERVICE, ECHO, payload), 30), payload);
      check("Sagebus process", Load.await(client.callAsync(SERVICE, payload), 30), payload);
      check("Sagebus fast (@NonBlocking)", Load.await(client.callAsync(SERVICE, FAST, payload), 30), payload);
      check("Sagebus process (default options)", Load.await(client.callAsync(DEFAULT_SERVICE, payload), 30), payload);

      List<Case> cases = List.of(
        Case.async("1a", "raw event bus, async", raw.thread,
          () -> vertx.eventBus().request(RAW_ADDRESS, payload)),
        Case.sequential("1b", "raw event bus, sequential (virtual thread)",
          () -> vertx.eventBus().request(RAW_ADDRESS, payload).await()),
        Case.async("1v", "raw event bus, async, consumer in a virtual-thread verticle", rawVirtual.thread,
          () -> vertx.eventBus().request(RAW_VIRTUAL_ADDRESS, payload)),
        Case.sequential("1bv", "raw event bus, sequential (virtual thread), consumer in a virtual-thread verticle",
          () -> vertx.eventBus().request(RAW_VIRTUAL_ADDRESS, payload).await()),
        Case.async("2", "Sagebus callAsync, Future method", benchThread,
          () -> client.callAsync(SERVICE, ECHO, payload)),
        Case.async("3", "Sagebus callAsync, plain method", benchThread,
          () -> client.callAsync(SERVICE, payload)),
        Case.async("3d", "Sagebus callAsync, plain method, default options", defaultThread,
          () -> client.callAsync(DEFAULT_SERVICE, payload)),
        Case.async("3n", "Sagebus callAsync, plain method declared @NonBlocking", benchThread,
          () -> client.callAsync(SERVICE, FAST, payload)),
        Case.sequential("4", "Sagebus call(), sequential (virtual thread)",
          () -> client.call(SERVICE, payload)),
        Case.sequential("4p", "Sagebus call(), sequential (virtual thread), service of plain-value methods only",
          () -> client.call(PLAIN_SERVICE, payload)),
        Case.async("3p", "Sagebus callAsync, service of plain-value methods only (driver placed as for 3)", benchThread,
          () -> client.callAsync(PLAIN_SERVICE, payload)),
        Case.async("1a-end", "raw event bus, async, again at the end", raw.thread,
          () -> vertx.eventBus().request(RAW_ADDRESS, payload)));

      if (s.jvmWarmupSeconds() > 0) {
        Settings pass = s.jvmWarmupPass();
        System.out.printf(Locale.ROOT, "JVM warm-up: every case %d s, unmeasured ...%n", s.jvmWarmupSeconds());
        for (Case c : cases) {
          if (s.runs(c.id()) && !c.id().equals("1a-end")) {
            run(c, vertx, drivers, pass, false);
          }
        }
      }
      for (Case c : cases) {
        if (s.runs(c.id())) {
          run(c, vertx, drivers, s, true);
        }
      }
      printTable(s);
    } catch (Exception e) {
      System.out.flush();
      System.err.println("benchmark failed: " + e);
      e.printStackTrace();
      status = 1;
    } finally {
      try {
        if (env != null) {
          Load.await(env.close(), 60);
          if (!env.openResources().isEmpty()) {
            System.err.println("left open after close: " + env.openResources());
            status = 1;
          }
        }
      } catch (Exception e) {
        System.err.println("closing the environment failed: " + e);
        status = 1;
      }
      if (sdk != null) {
        sdk.close();
      }
      try {
        Load.await(vertx.close(), 60);
      } catch (Exception e) {
        System.err.println("closing Vert.x failed: " + e);
        status = 1;
      }
    }
    return status;
  }

  /** {@return the SDK a {@code -Dsagebus.bench.tracing} value asks for, {@code null} for off} */
  static io.opentelemetry.sdk.OpenTelemetrySdk tracingSdk(String mode) {
    io.opentelemetry.sdk.trace.samplers.Sampler sampler = switch (mode) {
      case "off" -> null;
      case "on" -> io.opentelemetry.sdk.trace.samplers.Sampler.alwaysOn();
      case "unsampled" -> io.opentelemetry.sdk.trace.samplers.Sampler.alwaysOff();
      default -> throw new IllegalArgumentException("-Dsagebus.bench.tracing must be off, on or unsampled, got " + mode);
    };
    if (sampler == null) {
      return null;
    }
    io.opentelemetry.sdk.trace.export.SpanExporter drop = new io.opentelemetry.sdk.trace.export.SpanExporter() {
      @Override
      public io.opentelemetry.sdk.common.CompletableResultCode export(
        java.util.Collection<io.opentelemetry.sdk.trace.data.SpanData> spans) {
        return io.opentelemetry.sdk.common.CompletableResultCode.ofSuccess();
      }

      @Override
      public io.opentelemetry.sdk.common.CompletableResultCode flush() {
        return io.opentelemetry.sdk.common.CompletableResultCode.ofSuccess();
      }

      @Override
      public io.opentelemetry.sdk.common.CompletableResultCode shutdown() {
        return io.opentelemetry.sdk.common.CompletableResultCode.ofSuccess();
      }
    };
    return io.opentelemetry.sdk.OpenTelemetrySdk.builder()
      .setTracerProvider(io.opentelemetry.sdk.trace.SdkTracerProvider.builder().setSampler(sampler)
        .addSpanProcessor(io.opentelemetry.sdk.trace.export.BatchSpanProcessor.builder(drop).build()).build())
      .setPropagators(io.opentelemetry.context.propagation.ContextPropagators.create(
        io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator.getInstance()))
      .build();
  }

  private static void check(String what, Object got, JsonObject expected) {
    if (!expected.equals(got)) {
      throw new IllegalStateException(what + " answered " + got + ", expected " + expected);
    }
  }

  /** One benchmark case: an async load (with its consumer's thread) or a blocking call. */
  record Case(String id, String label, String consumerThread, Supplier<Future<?>> async, Load.BlockingCall blocking) {
    static Case async(String id, String label, String consumerThread, Supplier<Future<?>> call) {
      return new Case(id, label, consumerThread, call, null);
    }

    static Case sequential(String id, String label, Load.BlockingCall call) {
      return new Case(id, label, null, null, call);
    }
  }

  private void run(Case c, Vertx vertx, List<String> drivers, Settings s, boolean measured) throws Exception {
    System.gc();
    Load.Measured m;
    if (c.async() != null) {
      Load.DriverVerticle driver = Load.deployDriver(vertx, c.consumerThread(), s.sameThread(), drivers);
      String placement = "driver " + driver.thread + ", consumer " + c.consumerThread();
      if (measured) {
        System.out.printf(Locale.ROOT, "[%s] %s, %d in flight (%s) ...%n", c.id(), c.label(), s.inFlight(), placement);
      }
      try {
        m = Load.async(driver.ctx, c.async(), s, placement);
      } finally {
        while (!drivers.isEmpty()) {
          Load.await(vertx.undeploy(drivers.remove(drivers.size() - 1)), 30);
        }
      }
    } else {
      if (measured) {
        System.out.printf(Locale.ROOT, "[%s] %s ...%n", c.id(), c.label());
      }
      m = Load.sequential(vertx, c.blocking(), s);
    }
    if (!measured) {
      if (m.failures() > 0) {
        System.out.printf(Locale.ROOT, "  warm-up of %s: %,d calls failed, first: %s%n", c.id(), m.failures(),
          m.firstFailure());
      }
      return;
    }
    results.put(c.id(), m);
    StringBuilder sb = new StringBuilder("     rounds:");
    for (Load.Round r : m.rounds()) {
      if (Double.isNaN(r.p50Micros())) {
        sb.append(String.format(Locale.ROOT, " [%,.0f /s, cpu %.2f µs/call, caller loop %.2f, others %.2f CPU]",
          r.perSecond(), r.cpuMicrosPerCall(), r.loopCpuMicrosPerCall(), r.othersCpus()));
      } else {
        sb.append(String.format(Locale.ROOT, " [p50 %.1f µs, p99 %.1f µs, %,.0f /s, cpu %.1f µs/call, others %.2f CPU]",
          r.p50Micros(), r.p99Micros(), r.perSecond(), r.cpuMicrosPerCall(), r.othersCpus()));
      }
    }
    if (Double.isNaN(m.medianP50())) {
      sb.append(String.format(Locale.ROOT, "; median %,.0f /s", m.medianRate()));
    }
    if (m.rerun() > 0) {
      sb.append(String.format(Locale.ROOT, "; %d disturbed round(s) measured again", m.rerun()));
    }
    if (m.failures() > 0) {
      sb.append(String.format(Locale.ROOT, "; %,d FAILED calls, first: %s", m.failures(), m.firstFailure()));
    }
    System.out.println(sb);
  }

  private static void printHeader(Settings s, ServiceOptions tuned, ServiceOptions defaults, JsonObject payload) {
    System.out.println("Sagebus service-call benchmark, "
      + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    System.out.printf(Locale.ROOT, "  Java %s (%s %s), %s %s, %d available processors, Vert.x %s%n",
      System.getProperty("java.version"), System.getProperty("java.vm.vendor"), System.getProperty("java.vm.name"),
      System.getProperty("os.name"), System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(),
      vertxVersion());
    System.out.printf(Locale.ROOT, "  JVM warm-up: every case %d s unmeasured; then each case: %d s warm-up, %d rounds "
      + "of %d s, median reported; async cases keep %d calls in flight%n", s.jvmWarmupSeconds(), s.warmupSeconds(),
      s.rounds(), s.roundSeconds(), s.inFlight());
    System.out.printf(Locale.ROOT, "  a round during which other processes used more than %.2f CPU is measured again, at most "
      + "%d times per case and %d in the run%n", Load.DISTURBED_CPUS, Load.RERUNS_PER_CASE, s.maxReruns());
    System.out.println("  tracing: " + TRACING + (TRACING.equals("on") ? " (every call sampled, batched to a dropping exporter)"
      : TRACING.equals("unsampled") ? " (sampler always off: context in headers, nothing recorded)" : ""));
    System.out.println("  metrics: " + (METRICS ? "on (Micrometer + Prometheus registry, Sagebus and Vert.x meters)"
      : "off (-Dsagebus.bench.metrics=true turns them on)"));
    String path = System.getProperty("sagebus.directCalls", "all");
    System.out.println("  Sagebus calls: " + (path.equals("all")
      ? "the direct path to the instances in this JVM, no event bus (-Dsagebus.directCalls=off sends them on the bus)"
      : path.equals("off") ? "on the event bus (-Dsagebus.directCalls=off; the default is the direct path)"
      : "-Dsagebus.directCalls=" + path + " (from a job's operators only: these go on the event bus)"));
    System.out.println("  placement: " + (s.sameThread()
      ? "same (each async case's caller runs on its consumer's event loop: no cross-thread hand-off on the caller side)"
      : "different (each async case's caller runs on another event loop than its consumer)"));
    System.out.println("  service '" + SERVICE + "' (cases 2, 3, 4): " + tuned.toJson().encode());
    System.out.println("  service '" + DEFAULT_SERVICE + "' (case 3d): " + defaults.toJson().encode());
    System.out.println("  service '" + PLAIN_SERVICE + "' (cases 3p, 4p; only a plain-value method, so its instance reads "
      + "requests on a virtual thread): " + tuned.toJson().encode());
    System.out.println("  payload: " + payload.encode() + " (echoed back by every case)");
    System.out.println("  system load average at start: " + loadAverage() + " (other processes compete for the "
      + Runtime.getRuntime().availableProcessors() + " CPUs; a load well above 0 makes the figures noisy)");
  }

  private static String loadAverage() {
    double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return load < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", load);
  }

  private static String vertxVersion() {
    try (InputStream in = Vertx.class.getResourceAsStream("/META-INF/vertx/vertx-version.txt")) {
      return in == null ? "?" : new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return "?";
    }
  }

  private void printTable(Settings s) {
    Load.Measured rawAsync = results.get("1a");
    Load.Measured rawSeq = results.get("1b");
    System.out.println();
    System.out.printf(Locale.ROOT, "Results: median of %d rounds; ratios against this run's raw baseline (1a, 1b)%n",
      s.rounds());
    String format = "%-6s %-66s %-42s %-9s %-9s %-7s %s%n";
    System.out.printf(Locale.ROOT, format, "case", "what", "figure", "cpu/call", "loop cpu", "others", "vs raw (same run)");
    System.out.println("-".repeat(170));
    String inFlight = s.inFlight() + " in flight";
    row(format, "1a", "raw event-bus request-reply, async, " + inFlight, rawAsync, null);
    row(format, "1b", "raw event-bus request-reply, sequential, virtual thread", rawSeq, null);
    row(format, "2", "Sagebus callAsync, Future-returning method, " + inFlight, results.get("2"), rawAsync);
    row(format, "3", "Sagebus callAsync, plain-value method, " + inFlight + ", maxConc " + s.maxConcurrency(),
      results.get("3"), rawAsync);
    row(format, "3d", "  (extra) same with default options, maxConcurrency 1", results.get("3d"), rawAsync);
    row(format, "3n", "  (extra) plain-value method declared @NonBlocking (event loop)", results.get("3n"), rawAsync);
    row(format, "1v", "  (context) raw async to a virtual-thread verticle's consumer", results.get("1v"), rawAsync);
    Load.Measured rawVirtual = results.get("1v");
    if (rawVirtual != null && results.get("3") != null) {
      System.out.printf(Locale.ROOT, "%-6s %s%.2fx%n", "", "  case 3 against 1v (both answer on a virtual thread): ",
        results.get("3").medianRate() / rawVirtual.medianRate());
    }
    row(format, "4", "Sagebus call() sync, sequential, virtual thread", results.get("4"), rawSeq);
    row(format, "4p", "  (extra) as 4, to a service of plain-value methods only", results.get("4p"), rawSeq);
    row(format, "3p", "  (extra) as 3, to a service of plain-value methods only", results.get("3p"), rawAsync);
    row(format, "1bv", "  (context) raw sequential to a virtual-thread verticle's consumer", results.get("1bv"), rawSeq);
    row(format, "1a-end", "  (drift check) raw async again, at the end of the run", results.get("1a-end"), rawAsync);
    System.out.println();

    System.out.println("Targets");
    target("2: Future-method async >= " + FUTURE_ASYNC_TARGET + "x raw async", results.get("2"), rawAsync,
      (m, b) -> {
        double r = m.medianRate() / b.medianRate();
        return new Verdict(String.format(Locale.ROOT, "%.2fx", r), r >= FUTURE_ASYNC_TARGET);
      });
    target("3: plain-method async >= " + PLAIN_ASYNC_TARGET + "x raw async", results.get("3"), rawAsync,
      (m, b) -> {
        double r = m.medianRate() / b.medianRate();
        return new Verdict(String.format(Locale.ROOT, "%.2fx", r), r >= PLAIN_ASYNC_TARGET);
      });
    target("4: sequential p50 within " + (int) SEQUENTIAL_P50_TARGET_MICROS + " µs of raw", results.get("4"), rawSeq,
      (m, b) -> {
        double d = m.medianP50() - b.medianP50();
        return new Verdict(String.format(Locale.ROOT, "%+.1f µs (%.1f vs %.1f µs)", d, m.medianP50(), b.medianP50()),
          d <= SEQUENTIAL_P50_TARGET_MICROS);
      });
    target("4p: the same, service of plain-value methods only", results.get("4p"), rawSeq,
      (m, b) -> {
        double d = m.medianP50() - b.medianP50();
        return new Verdict(String.format(Locale.ROOT, "%+.1f µs (%.1f vs %.1f µs)", d, m.medianP50(), b.medianP50()),
          d <= SEQUENTIAL_P50_TARGET_MICROS);
      });
    System.out.println("  cpu/call: this process's CPU time per completed call (all threads); loop cpu: the caller's event-loop");
    System.out.println("  thread alone; others: CPUs used by other processes during the case's busiest round (from /proc/stat).");
    System.out.println("  System load average at the end: " + loadAverage() + " (this benchmark included).");
    double worst = results.values().stream().mapToDouble(Load.Measured::maxOthersCpus).filter(d -> !Double.isNaN(d))
      .max().orElse(0);
    if (worst > 0.25) {
      System.out.printf(Locale.ROOT, "WARNING: other processes used up to %.2f of the %d CPUs during a case: its figures "
        + "are disturbed; run again on a quiet machine%n", worst, Runtime.getRuntime().availableProcessors());
    }
    long failures = results.values().stream().mapToLong(Load.Measured::failures).sum();
    if (failures > 0) {
      System.out.printf(Locale.ROOT, "WARNING: %,d calls failed during the run (see the rounds above)%n", failures);
    }
  }

  private record Verdict(String figure, boolean pass) {
  }

  private interface Judge {
    Verdict judge(Load.Measured measured, Load.Measured baseline);
  }

  private static void target(String label, Load.Measured m, Load.Measured baseline, Judge judge) {
    if (m == null || baseline == null) {
      System.out.printf(Locale.ROOT, "  %-48s %-32s %s%n", label, "not run", "-");
      return;
    }
    Verdict v = judge.judge(m, baseline);
    System.out.printf(Locale.ROOT, "  %-48s %-32s %s%n", label, v.figure(), v.pass() ? "PASS" : "MISS");
  }

  private static void row(String format, String id, String what, Load.Measured m, Load.Measured baseline) {
    if (m == null) {
      return;
    }
    boolean latency = !Double.isNaN(m.medianP50());
    String figure;
    String ratio;
    if (latency) {
      figure = String.format(Locale.ROOT, "p50 %.1f µs, p99 %.1f µs, %,.0f calls/s", m.medianP50(), m.medianP99(),
        m.medianRate());
      ratio = baseline == null ? "baseline" : String.format(Locale.ROOT, "p50 %+.1f µs, %.2fx calls/s",
        m.medianP50() - baseline.medianP50(), m.medianRate() / baseline.medianRate());
    } else {
      figure = String.format(Locale.ROOT, "%,.0f %s/s", m.medianRate(), id.startsWith("1a") ? "req" : "calls");
      ratio = baseline == null ? "baseline" : String.format(Locale.ROOT, "%.2fx", m.medianRate() / baseline.medianRate());
    }
    if (m.failures() > 0) {
      ratio += String.format(Locale.ROOT, " (%,d failed)", m.failures());
    }
    String cpu = Double.isNaN(m.medianCpuPerCall()) ? "-" : String.format(Locale.ROOT, "%.2f µs", m.medianCpuPerCall());
    String loop = Double.isNaN(m.medianLoopCpuPerCall()) ? "-"
      : String.format(Locale.ROOT, "%.2f µs", m.medianLoopCpuPerCall());
    String others = Double.isNaN(m.maxOthersCpus()) ? "-" : String.format(Locale.ROOT, "%.2f", m.maxOthersCpus());
    System.out.printf(Locale.ROOT, format, id, what, figure, cpu, loop, others, ratio);
  }
}
