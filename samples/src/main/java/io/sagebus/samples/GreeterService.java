package io.sagebus.samples;

import io.sagebus.SagebusService;
import io.vertx.core.Future;

/**
 * A service named by its annotation, so {@code env.registerService(GreeterService.class)}
 * registers it as {@code greeter}. Its method returns a {@link Future}, so it runs on the event
 * loop and must not block.
 */
@SagebusService("greeter")
public class GreeterService {

  /** Sagebus creates the instances. */
  public GreeterService() {
  }

  /**
   * The method called when a call names none.
   *
   * @param name whom to greet
   * @return {@code "Hello, <name>!"}, already completed
   */
  public Future<String> process(String name) {
    return Future.succeededFuture("Hello, " + name + "!");
  }
}
