package io.sagebus;

import io.sagebus.testing.EchoService;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

@ExtendWith(VertxExtension.class)
class SecurityTest {

  /** Its static initializer records that it was loaded. */
  public static class Marker {
    static {
      MARKED.set(true);
    }
  }

  static final AtomicBoolean MARKED = new AtomicBoolean();

  /** Takes any object: JSON naming a class must arrive as a plain map. */
  public static class Sink {
    public String process(Object value) {
      return value.getClass().getName();
    }

    public String typed(Map<String, Object> value) {
      return value.getClass().getName() + " " + value.get("@class");
    }
  }

  @Test
  void jsonNamingAClassIsNeverInstantiated(Vertx vertx) {
    LocalEnvironment env = LocalEnvironment.create(vertx, "sec", new EnvironmentOptions());
    try {
      env.registerService("sink", Sink.class);
      env.start().await();
      JsonObject payload = new JsonObject().put("@class", SecurityTest.class.getName() + "$Marker")
        .put("@type", SecurityTest.class.getName() + "$Marker");
      String type = env.services().call("sink", payload);
      assertThat(type).isEqualTo(JsonObject.class.getName());
      String typed = env.services().call("sink", CallOptions.method("typed"), payload);
      assertThat(typed).endsWith("$Marker");
      Object back = env.services().call("sink", CallOptions.method("typed").resultType(Object.class), payload);
      assertThat(back).isInstanceOf(String.class);
      assertThat(MARKED).isFalse();
    } finally {
      env.close().await();
    }
  }

  @Test
  void managerNeverDeploysAClassNamedInAMessage(Vertx vertx) {
    LocalEnvironment env = LocalEnvironment.create(vertx, "sec2", new EnvironmentOptions());
    try {
      env.registerService("echo", EchoService.class);
      env.start().await(); // the manager is deployed and listening
      ReplyException e = catchThrowableOfType(ReplyException.class, () -> vertx.eventBus()
        .request(DeploymentManagerVerticle.address("sec2"), new JsonObject().put("action", "deploy")
          .put("service", SecurityTest.class.getName() + "$Marker")).await());
      assertThat(e.failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
      assertThat(e.getMessage()).contains("is registered");
      assertThat(MARKED).isFalse();
      assertThat(env.registeredServices()).containsExactly("echo");
    } finally {
      env.close().await();
    }
  }

  @Test
  void onlyJsonTravels(Vertx vertx) {
    LocalEnvironment env = LocalEnvironment.create(vertx, "sec3", new EnvironmentOptions());
    try {
      env.registerService("echo", EchoService.class);
      env.start().await();
      // A POJO argument is mapped to a JSON object before it is sent, and comes back as JSON unless a type is asked for.
      Object back = env.services().call("echo", new EchoService.Point(1, 2));
      assertThat(back).isEqualTo(new JsonObject().put("x", 1).put("y", 2));
    } finally {
      env.close().await();
    }
  }
}
