package io.sagebus.benchmarks;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A diagnostic, not part of the benchmark: raw event-bus request-reply (async, in flight) with
 * Sagebus's wire protocol added piece by piece, written by hand without Sagebus, to see what the
 * protocol itself costs. Run with
 * {@code java -cp benchmarks/target/sagebus-benchmarks.jar io.sagebus.benchmarks.WireOverhead [--seconds N]}.
 * Variants run interleaved (round-robin, one round each per pass) so drift hits them alike.
 */
public final class WireOverhead {

  private WireOverhead() {
  }

  static final class Consumer extends VerticleBase {
    volatile String thread;

    @Override
    public Future<?> start() {
      thread = Thread.currentThread().getName();
      vertx.eventBus().<JsonObject>consumer("w.plain", m -> m.reply(m.body()));
      vertx.eventBus().<JsonObject>consumer("w.wrapped", WireOverhead::wrappedReply);
      return vertx.eventBus().<JsonObject>consumer("w.headers", m -> {
        m.headers().get("sagebus-timeout-ms");
        m.headers().get("sagebus-request-id");
        m.reply(m.body());
      }).completion();
    }
  }

  private static void wrappedReply(Message<JsonObject> m) {
    JsonObject body = m.body();
    body.getString("method");
    Object arg = body.getJsonArray("args").getValue(0);
    m.headers().get("sagebus-timeout-ms");
    m.headers().get("sagebus-request-id");
    m.reply(new JsonObject(new LinkedHashMap<>(4)).put("success", true).put("result", arg)
      .put("executionTimeMicros", 1L));
  }

  /**
   * @param args {@code --seconds N} (round length, default 3), {@code --rounds N} (default 3)
   * @throws Exception when a deployment fails
   */
  public static void main(String[] args) throws Exception {
    int seconds = 3;
    int rounds = 3;
    boolean same = false;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        case "--same-thread" -> same = Boolean.parseBoolean(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    JsonObject payload = new JsonObject().put("id", 42).put("name", "sagebus").put("ok", true);
    Vertx vertx = Vertx.vertx();
    try {
      io.sagebus.LocalEnvironment env = io.sagebus.LocalEnvironment.create(vertx, "wire",
        new io.sagebus.EnvironmentOptions());
      env.registerService("bench", BenchService.class,
        new io.sagebus.ServiceOptions().setMaxConcurrency(256).setMaxQueued(1000));
      Load.await(env.start(), 60);
      String taskThread = Load.await(env.services().<String>callAsync("bench",
        io.sagebus.CallOptions.method("where")), 30);
      // The raw consumer on the Sagebus task's event loop, so that one driver placement fits both.
      Consumer consumer = null;
      for (int i = 0; i < 16 && (consumer == null || !consumer.thread.equals(taskThread)); i++) {
        Consumer c = new Consumer();
        String id = Load.await(vertx.deployVerticle(c), 30);
        if (c.thread.equals(taskThread) || i == 15) {
          consumer = c;
        } else {
          Load.await(vertx.undeploy(id), 30);
        }
      }
      List<String> ids = new ArrayList<>();
      Load.DriverVerticle driver = Load.deployDriver(vertx, taskThread, same, ids);
      long[] seq = new long[1];
      Supplier<DeliveryOptions> headers = () -> new DeliveryOptions().setSendTimeout(30_000)
        .addHeader("sagebus-request-id", "abc-" + (++seq[0]))
        .addHeader("sagebus-timeout-ms", Long.toString(30_000))
        .addHeader("sagebus-caller", "client");
      Supplier<JsonObject> wrapped = () -> new JsonObject(new LinkedHashMap<>(4)).put("method", "echo")
        .put("args", new JsonArray(new ArrayList<>(1)).add(payload));
      io.sagebus.CallOptions echo = io.sagebus.CallOptions.method("echo");
      String[] names = {"raw", "raw + 3 headers", "raw + wrapped body/reply", "raw + headers + wrapped",
        "Sagebus callAsync echo", "Sagebus callAsync process"};
      List<Supplier<Future<?>>> calls = List.of(
        () -> vertx.eventBus().request("w.plain", payload),
        () -> vertx.eventBus().request("w.headers", payload, headers.get()),
        () -> vertx.eventBus().request("w.wrapped", wrapped.get()),
        () -> vertx.eventBus().request("w.wrapped", wrapped.get(), headers.get()),
        () -> env.services().callAsync("bench", echo, payload),
        () -> env.services().callAsync("bench", payload));
      Settings warm = new Settings(0, 2, seconds, 0, 256, 1, 0, same, 0, java.util.Set.of());
      Settings one = new Settings(0, 0, seconds, 1, 256, 1, 0, same, 0, java.util.Set.of());
      for (Supplier<Future<?>> c : calls) {
        Load.async(driver.ctx, c, warm, "");
      }
      List<List<Double>> rates = new ArrayList<>();
      List<List<Double>> cpus = new ArrayList<>();
      calls.forEach(c -> {
        rates.add(new ArrayList<>());
        cpus.add(new ArrayList<>());
      });
      for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < calls.size(); i++) {
          Load.Measured m = Load.async(driver.ctx, calls.get(i), one, "");
          rates.get(i).add(m.medianRate());
          cpus.get(i).add(m.medianCpuPerCall());
        }
      }
      System.out.println("driver " + driver.thread + ", raw consumer " + consumer.thread + ", Sagebus task "
        + taskThread + "; 256 in flight");
      Load.await(env.close(), 60);
      double base = Load.median(rates.get(0).stream().mapToDouble(Double::doubleValue).toArray());
      double bestBase = rates.get(0).stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
      for (int i = 0; i < calls.size(); i++) {
        double m = Load.median(rates.get(i).stream().mapToDouble(Double::doubleValue).toArray());
        double best = rates.get(i).stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        double cpu = Load.median(cpus.get(i).stream().mapToDouble(Double::doubleValue).toArray());
        System.out.printf(Locale.ROOT, "%-28s median %,9.0f /s %.2fx  best %,9.0f /s %.2fx  cpu %.2f µs/call  rounds %s%n",
          names[i], m, m / base, best, best / bestBase, cpu,
          rates.get(i).stream().map(v -> String.format(Locale.ROOT, "%,.0f", v)).toList());
      }
    } finally {
      Load.await(vertx.close(), 60);
    }
  }
}
