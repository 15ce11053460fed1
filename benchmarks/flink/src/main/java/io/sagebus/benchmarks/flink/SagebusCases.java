package io.sagebus.benchmarks.flink;

import io.sagebus.AsyncFunction;
import io.sagebus.AsyncOrder;
import io.sagebus.Chaining;
import io.sagebus.DataStream;
import io.sagebus.EnvironmentOptions;
import io.sagebus.JobOptions;
import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.LocalEnvironment;
import io.sagebus.MapFunction;
import io.sagebus.ServiceContext;
import io.sagebus.ServiceLifecycle;
import io.sagebus.ServiceOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.LongStream;

/**
 * The workloads on Sagebus, through its public API only: {@code LocalEnvironment}, {@code fromBatch},
 * {@code map}/{@code mapAsync}/{@code sink}, {@code registerService}, {@code callService(Async)}. The services and the
 * raw baseline are those of {@code PipelineBenchmark} (a plain-value echo, a 5 ms Vert.x timer behind a Future).
 */
final class SagebusCases {

  private SagebusCases() {
  }

  /** Answers at once, on a virtual thread (a plain-value method). */
  public static final class PlainEcho {
    /**
     * @param v a value
     * @return {@code v}
     */
    public Object process(Object v) {
      return v;
    }
  }

  /** Answers at once, on the service's event loop (a Future-returning method). */
  public static final class FutureEcho {
    /**
     * @param v a value
     * @return {@code v}, already completed
     */
    public Future<Object> process(Object v) {
      return Future.succeededFuture(v);
    }
  }

  /** System property choosing what completes the 5 ms service's calls: {@code timer} (default) or {@code scheduler}. */
  static final String DELAY = "sagebus.bench.delay";

  /** System property: {@code native} (default) or {@code nio}, the transport the Sagebus side's Vertx prefers. */
  static final String TRANSPORT = "sagebus.bench.transport";

  /**
   * System property: the job's chaining, {@code none}, {@code async-sinks} or {@code all} (or {@code true} / {@code false});
   * unset, Sagebus's default ({@code async-sinks}).
   */
  static final String CHAINING = "sagebus.bench.chaining";

  /**
   * System property: {@code true} (default) declares the 5 ms cases' mapAsync function non-blocking
   * ({@code DataStream.nonBlocking()}: calls start where earlier ones end), {@code false} leaves it on the operator's
   * virtual thread, {@code all} declares the functions of the cases whose calls complete at once non-blocking too (by
   * default they keep theirs on the operator's thread: on one loop their work would not share the two cores).
   */
  static final String NON_BLOCKING_PROPERTY = "sagebus.bench.nonblocking";

  private static final String NON_BLOCKING = System.getProperty(NON_BLOCKING_PROPERTY, "true");

  /**
   * Answers 5 ms later without holding a thread, from a Vert.x timer (what a Vert.x user writes; on a 2-core VM it fires
   * after about 5.1 ms on epoll, 5.2-5.6 ms on NIO) or, with {@code -Dsagebus.bench.delay=scheduler}, from a {@code ScheduledExecutorService}
   * back on the service's context (what the Flink side uses); records how late each delay fired.
   */
  public static final class FiveMillis implements ServiceLifecycle {
    private final Latencies delays;
    private final SlotTimes slots;
    private final boolean scheduled = "scheduler".equals(System.getProperty(DELAY));
    private Vertx vertx;
    private ScheduledExecutorService scheduler;

    FiveMillis(Latencies delays, SlotTimes slots) {
      this.delays = delays;
      this.slots = slots;
    }

    @Override
    public void setup(ServiceContext context) {
      vertx = context.vertx();
      if (scheduled) {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("five-millis").unstarted(r));
      }
    }

    @Override
    public void cleanup() {
      if (scheduler != null) {
        scheduler.shutdownNow();
      }
    }

    /**
     * @param v a value
     * @return {@code v}, 5 ms later
     */
    public Future<Object> process(Object v) {
      long t0 = System.nanoTime();
      if (slots != null) {
        slots.ran((Long) v, t0);
      }
      if (!scheduled) {
        return vertx.timer(Workload.DELAY_MS, TimeUnit.MILLISECONDS).map(x -> {
          long fired = System.nanoTime();
          delays.add(fired - t0);
          if (slots != null) {
            slots.fired((Long) v, fired);
          }
          return v;
        });
      }
      Context context = Vertx.currentContext();
      Promise<Object> answer = Promise.promise();
      scheduler.schedule(() -> {
        long fired = System.nanoTime();
        delays.add(fired - t0);
        if (slots != null) {
          slots.fired((Long) v, fired);
        }
        context.runOnContext(x -> answer.complete(v));
      }, Workload.DELAY_MS, TimeUnit.MILLISECONDS);
      return answer.future();
    }
  }

  /**
   * {@return the Sagebus side's Vertx: it prefers Netty's native transport (epoll on Linux x86_64, whose jar this module
   * carries) unless {@code -Dsagebus.bench.transport=nio}; elsewhere Vert.x falls back to NIO}
   */
  static Vertx newVertx() {
    boolean preferNative = !"nio".equals(System.getProperty(TRANSPORT, "native"));
    return Vertx.builder().with(new VertxOptions().setPreferNativeTransport(preferNative)).build();
  }

  static JsonObject run(Workload w, int n) throws Exception {
    Vertx vertx = newVertx();
    LocalEnvironment env = LocalEnvironment.create(vertx, "beside-flink", new EnvironmentOptions());
    Latencies delays = new Latencies(w.fiveMillis() ? n : 0);
    Latencies calls = new Latencies(w.fiveMillis() ? n : 0);
    SlotTimes slots = w.fiveMillis() ? SlotTimes.ifEnabled(n) : null;
    ServiceOptions wide = new ServiceOptions().setMaxConcurrency(256).setMaxQueued(1000);
    switch (w) {
      case ASYNC_5MS_ORDERED, ASYNC_5MS_UNORDERED -> env.registerService("slow", () -> new FiveMillis(delays, slots), wide);
      case ASYNC_NOW, KB_ASYNC -> env.registerService("echo", FutureEcho.class, wide);
      case SYNC_CALL_P1, SYNC_CALL_P4 -> env.registerService("echo", PlainEcho.class, new ServiceOptions().setMaxConcurrency(4));
      case MAP -> { }
    }
    double engineReady = ProcessFigures.secondsSinceLaunch();

    LongAdder seen = new LongAdder();
    DataStream<?> stream = switch (w) {
      case ASYNC_5MS_ORDERED, ASYNC_5MS_UNORDERED -> env.fromBatch(LongStream.range(0, n).boxed())
        .mapAsync(new AsyncFunction<Long, Object>() {
          @Override
          public Future<Object> execute(Long v) {
            long t0 = System.nanoTime();
            if (slots != null) {
              slots.started(v, t0);
            }
            return this.<Object>callServiceAsync("slow", v).andThen(ar -> {
              long heard = System.nanoTime();
              calls.add(heard - t0);
              if (slots != null) {
                slots.heard(v, heard);
              }
            });
          }
        }, Workload.CAPACITY, w.ordered() ? AsyncOrder.ORDERED : AsyncOrder.UNORDERED);
      case MAP -> env.fromBatch(LongStream.range(0, n).boxed()).map((Long v) -> v + 1);
      case ASYNC_NOW -> env.fromBatch(LongStream.range(0, n).boxed()).mapAsync(new EchoAsync<Long>(), Workload.CAPACITY,
        AsyncOrder.ORDERED);
      case KB_ASYNC -> env.fromBatch(LongStream.range(0, n).mapToObj(ProcessFigures::kilobyte))
        .mapAsync(new EchoAsync<String>(), Workload.CAPACITY, AsyncOrder.ORDERED);
      case SYNC_CALL_P1, SYNC_CALL_P4 -> env.fromBatch(LongStream.range(0, n).boxed())
        .map(new MapFunction<Long, Object>() {
          @Override
          public Object execute(Long v) {
            return callService("echo", v);
          }
        }, w == Workload.SYNC_CALL_P4 ? 4 : 1);
    };
    if (NON_BLOCKING.equals("all") && (w.fiveMillis() || w == Workload.ASYNC_NOW || w == Workload.KB_ASYNC)
      || NON_BLOCKING.equals("true") && w.fiveMillis()) {
      stream = stream.nonBlocking();
    }
    SinkProgress progress = new SinkProgress(n);
    stream.sink(x -> {
      seen.increment();
      progress.record();
    });

    long t0 = System.nanoTime();
    String mode = System.getProperty(CHAINING);
    Chaining chaining = mode == null ? JobOptions.DEFAULT_CHAINING
      : Chaining.fromJson(mode.equals("true") || mode.equals("false") ? Boolean.valueOf(mode) : mode);
    JobResult result = env.submit(new JobOptions().setChaining(chaining)).await().completion().await();
    double jobSeconds = (System.nanoTime() - t0) / 1e9;
    if (result.status() != JobStatus.COMPLETED || seen.sum() != n) {
      throw new IllegalStateException("expected " + n + " records at the sink of a COMPLETED job, saw " + seen.sum() + ": "
        + result.toJson().encode());
    }
    String transport = vertx.isNativeTransportEnabled() ? "epoll" : "nio";
    env.close().await();
    vertx.close().await();

    JsonObject json = new JsonObject()
      .put("jobSeconds", jobSeconds)
      .put("jobClock", "submit() to completion(), services deployed and stopped inside")
      .put("firstRecordClock", "from submit()")
      .mergeIn(progress.figures(t0))
      .put("engineReadySeconds", engineReady)
      .put("chaining", chaining.toJson())
      .put("transport", transport)
      .put("peakRecordsInFlight", result.peakRecordsInFlight())
      .put("maxRecordsInFlight", result.maxRecordsInFlight());
    if (w.fiveMillis()) {
      json.put("delayMeanMs", delays.meanMillis()).put("delayP50Ms", delays.p50Millis())
        .put("callMeanMs", calls.meanMillis()).put("callP50Ms", calls.p50Millis())
        .put("delaySource", "scheduler".equals(System.getProperty(DELAY)) ? "scheduler" : "timer");
      if (slots != null) {
        json.put("breakdown", slots.summary(Workload.CAPACITY).put("submitToFirstCallMs", (slots.firstStart() - t0) / 1e6));
      }
    }
    return json;
  }

  /** Calls the {@code echo} service's Future method for each record. */
  static final class EchoAsync<T> extends AsyncFunction<T, Object> {
    @Override
    public Future<Object> execute(T v) {
      return callServiceAsync("echo", v);
    }
  }

  /**
   * The same-run baseline of the sync-call cases: raw sequential event-bus request-reply from a virtual thread to an
   * event-loop consumer echoing a small JsonObject (as in {@code PipelineBenchmark}), on a Vertx of its own, after the
   * job, so that it counts in neither the job's figures nor its process's.
   *
   * @param calls measured calls (after a fifth as many unmeasured)
   * @return calls per second
   */
  static double rawSequential(int calls) throws Exception {
    Vertx vertx = newVertx();
    try {
      vertx.eventBus().<JsonObject>consumer("raw.bench", m -> m.reply(m.body())).completion().await();
      return onVirtualThread(() -> {
        JsonObject body = new JsonObject().put("v", 1);
        for (int i = 0; i < calls / 5; i++) {
          vertx.eventBus().request("raw.bench", body).await();
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
          vertx.eventBus().request("raw.bench", body).await();
        }
        return calls / ((System.nanoTime() - t0) / 1e9);
      });
    } finally {
      vertx.close().await();
    }
  }

  private static double onVirtualThread(Callable<Double> body) throws Exception {
    AtomicReference<Double> out = new AtomicReference<>();
    AtomicReference<Exception> failure = new AtomicReference<>();
    Thread t = Thread.ofVirtual().start(() -> {
      try {
        out.set(body.call());
      } catch (Exception e) {
        failure.set(e);
      }
    });
    t.join();
    if (failure.get() != null) {
      throw failure.get();
    }
    return out.get();
  }
}
