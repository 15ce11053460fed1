package io.sagebus.samples;

import io.sagebus.LocalEnvironment;
import io.sagebus.MapFunction;
import io.sagebus.ServiceOptions;
import io.sagebus.management.ManagementOptions;
import io.sagebus.management.ManagementServer;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.net.BindException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

/**
 * The operations walkthrough (README, "Management API and CLI"): a local environment {@code shop}
 * with two services ({@code profile}, two instances, and {@code echo}) and a named pipeline,
 * {@code nightly-report}, behind a management API on {@code 127.0.0.1:8089}, the CLI's default
 * address. It runs until Ctrl-C or SIGTERM, then closes the server and the environment.
 * <p>
 * {@code java -jar samples/target/sagebus-samples.jar serve [PORT]} prints:
 * <pre>
 * serve: environment 'shop', services [echo, profile], pipeline 'nightly-report'
 * serve: management API on http://127.0.0.1:8089 (no token: set SAGEBUS_TOKEN to require one)
 * serve: running until Ctrl-C
 * </pre>
 * With the environment variable {@code SAGEBUS_TOKEN} set, the API asks for that token. A port in
 * use ends the sample at once with one line naming it.
 */
public final class ServeSample {

  /** The API's port when none is given: the CLI's default, so {@code sagebus status} needs no {@code --url}. */
  public static final int DEFAULT_PORT = ManagementOptions.DEFAULT_PORT;
  /** Users in the {@code nightly-report} batch. */
  public static final int USERS = 3000;
  /** The score from which a user goes into the report. */
  public static final int REPORT_SCORE = 50;

  private ServeSample() {
  }

  /** The running sample: its environment and management server. */
  public static final class Served implements AutoCloseable {

    private final LocalEnvironment env;
    private final ManagementServer server;
    private final LongAdder reported;

    private Served(LocalEnvironment env, ManagementServer server, LongAdder reported) {
      this.env = env;
      this.server = server;
      this.reported = reported;
    }

    /** {@return the port the API listens on} */
    public int port() {
      return server.actualPort();
    }

    /** {@return how many users the runs of {@code nightly-report} put in the report, in all} */
    public long reported() {
      return reported.sum();
    }

    /** Closes the API, then the environment (running jobs are cancelled, services stopped). */
    @Override
    public void close() {
      try {
        server.close().await();
      } finally {
        env.close().await();
      }
    }
  }

  /**
   * Runs the sample until the JVM is asked to stop (Ctrl-C, SIGTERM).
   *
   * @param args empty, or the port of the API
   * @param out  where the sample prints
   * @throws Samples.BadArgumentsException when the port is not a number from 0 to 65535, or is in use
   * @throws InterruptedException when interrupted while serving
   */
  public static void run(List<String> args, PrintStream out) throws InterruptedException {
    Served served = start(port(args), System.getenv("SAGEBUS_TOKEN"), out);
    out.println("serve: running until Ctrl-C");
    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      out.println("serve: stopping");
      try {
        served.close();
      } finally {
        out.println("serve: stopped");
        closed.countDown();
      }
    }, "serve-shutdown"));
    closed.await();
  }

  /**
   * Starts the environment, its services and the API.
   *
   * @param port  the API's port, 0 for a free one
   * @param token the API's token, or {@code null} (or blank) for none
   * @param out   where the sample prints what it serves
   * @return the running sample, to close
   * @throws Samples.BadArgumentsException when the port is in use
   */
  public static Served start(int port, String token, PrintStream out) {
    LongAdder reported = new LongAdder();
    LocalEnvironment env = LocalEnvironment.create("shop");
    try {
      // tag::serve[]
      env.registerService("profile", ProfileService.class, new ServiceOptions().setInstances(2));
      env.registerService("echo", EchoService.class);
      env.registerPipeline("nightly-report", e -> e.fromBatch(users())   // POST /pipelines/nightly-report/run
        .map(new Score()).name("score")                                // calls profile for each user
        .filter(profile -> profile.getInteger("score") >= REPORT_SCORE)
        .sink(profile -> reported.increment()));
      ManagementServer server = ManagementServer.builder(env)          // io.sagebus.management
        .options(new ManagementOptions().setPort(port).setToken(blankToNull(token)))  // on 127.0.0.1
        .build();
      env.deploy("profile").await();                                   // running before any job
      env.deploy("echo").await();
      server.start().await();
      // end::serve[]
      out.println("serve: environment 'shop', services " + env.registeredServices() + ", pipeline 'nightly-report'");
      out.println("serve: management API on http://127.0.0.1:" + server.actualPort()
        + (blankToNull(token) == null ? " (no token: set SAGEBUS_TOKEN to require one)" : " (token: SAGEBUS_TOKEN)"));
      return new Served(env, server, reported);
    } catch (Exception e) {
      env.close().await();
      for (Throwable c = e; c != null; c = c.getCause()) {
        if (c instanceof BindException) {
          throw new Samples.BadArgumentsException("127.0.0.1:" + port + " is in use (" + c.getMessage() + "): stop"
            + " what holds it (another serve?), or give another port: serve " + (port + 1));
        }
      }
      throw e;
    }
  }

  private static String blankToNull(String token) {
    return token == null || token.isBlank() ? null : token;
  }

  static int port(List<String> args) {
    if (args.isEmpty()) {
      return DEFAULT_PORT;
    }
    try {
      int port = Integer.parseInt(args.getFirst());
      if (port >= 0 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new Samples.BadArgumentsException("the port must be a number from 0 to 65535, got '" + args.getFirst() + "'");
  }

  static List<String> users() {
    return IntStream.rangeClosed(1, USERS).mapToObj(i -> "u" + i).toList();
  }

  /** A user's profile, from the profile service. */
  static final class Score extends MapFunction<String, JsonObject> {
    @Override
    public JsonObject execute(String userId) {
      return callService("profile", userId);
    }
  }
}
