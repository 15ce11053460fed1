package io.sagebus;

import io.sagebus.testing.EchoService;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(VertxExtension.class)
class RegistrationTest {

  private LocalEnvironment env;

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "registration", new EnvironmentOptions());
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  @SagebusService("profile")
  public static class AnnotatedProfile {
    public String process(String id) {
      return "profile of " + id;
    }
  }

  public static class NeedsArgument {
    public NeedsArgument(String required) {
    }
  }

  public class Inner {
  }

  public abstract static class Abstract {
  }

  public static class WithContext {
    private final ServiceContext ctx;

    public WithContext(ServiceContext ctx) {
      this.ctx = ctx;
    }

    public String process() {
      return ctx.name() + "@" + ctx.environment();
    }
  }

  @Test
  void annotatedClassRegistersUnderItsName() {
    env.registerService(AnnotatedProfile.class);
    env.start().await();
    assertThat(env.registeredServices()).containsExactly("profile");
    assertThat((String) env.services().call("profile", "u1")).isEqualTo("profile of u1");
  }

  @Test
  void constructorMayTakeTheServiceContext() {
    env.registerService("ctx", WithContext.class);
    env.start().await();
    assertThat((String) env.services().call("ctx")).isEqualTo("ctx@registration");
  }

  @Test
  void badNamesAreRejectedWithAMessageSayingWhatToDo() {
    assertThatThrownBy(() -> env.registerService((String) null, EchoService.class))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be null");
    for (String bad : new String[]{"", "a.b", "has space", "-lead", "sagebus/x", "x".repeat(101)}) {
      assertThatThrownBy(() -> env.registerService(bad, EchoService.class)).as(bad)
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("letters, digits");
    }
    assertThatThrownBy(() -> LocalEnvironment.create(null, "bad.env", new EnvironmentOptions()))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("environment");
  }

  @Test
  void duplicateNamesAreRejected() {
    env.registerService("echo", EchoService.class);
    assertThatThrownBy(() -> env.registerService("echo", () -> new EchoService()))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already registered");
  }

  @Test
  void classesWithoutAUsableConstructorAreRejected() {
    assertThatThrownBy(() -> env.registerService("needs", NeedsArgument.class))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no constructor taking no argument")
      .hasMessageContaining("Supplier");
    assertThatThrownBy(() -> env.registerService("inner", Inner.class))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("make it static");
    assertThatThrownBy(() -> env.registerService("abstract", Abstract.class))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot be instantiated");
    assertThatThrownBy(() -> env.registerService("iface", Runnable.class))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot be instantiated");
    assertThatThrownBy(() -> env.registerService("nil", (Class<?>) null))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be null");
    assertThatThrownBy(() -> env.registerService("nil", (Supplier<?>) null))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be null");
    assertThatThrownBy(() -> env.registerService(EchoService.class))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("@SagebusService");
    assertThat(env.registeredServices()).isEmpty();
  }

  @Test
  void supplierReturningNullFailsTheDeployment() {
    env.registerService("nothing", () -> null);
    assertThatThrownBy(() -> env.start().await())
      .isInstanceOf(ServiceDeploymentException.class).hasMessageContaining("returned null");
  }

  @Test
  void deployingAnUnregisteredNameFailsWithNotFound() {
    assertThatThrownBy(() -> env.deploy("ghost").await()).isInstanceOf(ServiceNotFoundException.class);
  }
}
