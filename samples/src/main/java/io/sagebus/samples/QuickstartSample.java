package io.sagebus.samples;

import io.sagebus.CallOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceCallException;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceNotFoundException;
import io.sagebus.samples.ProfileService.Profile;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;

/**
 * The first sample: an environment in this JVM with two services, called synchronously from the
 * main thread, with a named method and a typed result, asynchronously from an event loop, and
 * failing with typed errors.
 * <p>
 * Prints:
 * <pre>
 * sync: {"user_id":"u1","score":66}
 * typed: Profile[userId=u2, score=67]
 * async: Hello, Ada! Your score is 66.
 * error: No service 'inventory' is registered in environment 'quickstart'; registered: [greeter, profile]. ...
 * error: SERVICE_ERROR java.lang.IllegalArgumentException: userId must not be blank
 * </pre>
 */
public final class QuickstartSample {

  private QuickstartSample() {
  }

  /**
   * Runs the sample: creates an environment (with its own Vertx), calls its services, and closes it.
   *
   * @param out where the results are printed, one line each
   * @throws io.sagebus.ServiceException when a call that should succeed fails
   */
  public static void run(PrintStream out) {
    // tag::quickstart[]
    LocalEnvironment env = LocalEnvironment.create("quickstart"); // owns its Vertx
    env.registerService("profile", ProfileService.class);         // registered under a name
    env.registerService(GreeterService.class);                    // named by its @SagebusService("greeter")
    env.start().await();                                          // completes once every service is running

    // Sync, from this plain thread (or a virtual thread): calls ProfileService.process("u1").
    JsonObject profile = env.services().call("profile", "u1");
    out.println("sync: " + profile.encode());

    // A named method; its JSON result converted back to a record.
    Profile typed = env.services().call("profile", CallOptions.method("lookup").resultType(Profile.class), "u2");
    out.println("typed: " + typed);

    // Async, from an event loop, which must never block: see GreetingVerticle below.
    GreetingVerticle greeting = new GreetingVerticle(env.services(), out);
    env.vertx().deployVerticle(greeting).await();
    greeting.done().await();

    // Failures are typed. An unknown service fails at once, never after a timeout...
    try {
      env.services().call("inventory", "u1");
    } catch (ServiceNotFoundException e) {
      out.println("error: " + e.getMessage());
    }
    // ...and an exception thrown by the service comes back with its type and message.
    try {
      env.services().call("profile", "");
    } catch (ServiceCallException e) {
      out.println("error: " + e.code() + " " + e.remoteType() + ": " + e.remoteMessage());
    }

    env.close().await(); // stops the services and the Vertx: nothing is left running
    // end::quickstart[]
  }

  // tag::quickstart-verticle[]
  /**
   * A standard (event-loop) verticle calling services: {@code callAsync} returns a {@link Future}
   * at once and the verticle composes it; a blocking {@code call} here would fail at once.
   */
  static final class GreetingVerticle extends VerticleBase {

    private final ServiceClient services;
    private final PrintStream out;
    private final Promise<String> done = Promise.promise();

    GreetingVerticle(ServiceClient services, PrintStream out) {
      this.services = services;
      this.out = out;
    }

    @Override
    public Future<?> start() {
      services.<String>callAsync("greeter", "Ada")
        .compose(hello -> services.<JsonObject>callAsync("profile", "u1")
          .map(profile -> hello + " Your score is " + profile.getInteger("score") + "."))
        .map(text -> {
          out.println("async: " + text);
          return text;
        })
        .onComplete(done);
      return Future.succeededFuture();
    }

    /** {@return completes with the greeting once it is printed} */
    Future<String> done() {
      return done.future();
    }
  }
  // end::quickstart-verticle[]
}
