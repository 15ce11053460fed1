package io.sagebus.cluster;

import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServiceCatalogTest {

  private static JsonObject config(String name, String className) {
    return new JsonObject().put("services", new JsonObject().put(name, new JsonObject().put("class", className)));
  }

  @Test
  void readsServicesAndTheirOptionsFromTheNodeConfiguration() {
    ServiceCatalog catalog = ServiceCatalog.fromJson(new JsonObject().put("services", new JsonObject()
      .put("echo", new JsonObject().put("class", EchoService.class.getName())
        .put("options", new JsonObject().put("maxConcurrency", 8).put("maxQueued", 20)))
      .put("ctx-aware_2", new JsonObject().put("class", ContextAwareService.class.getName()))));
    assertThat(catalog.names()).containsExactly("echo", "ctx-aware_2");
    assertThat(catalog.contains("echo")).isTrue();
    assertThat(catalog.contains("Marker")).isFalse();
    assertThat(catalog.contains(null)).isFalse();
    assertThat(catalog.options("echo").getMaxConcurrency()).isEqualTo(8);
    assertThat(catalog.options("echo").getMaxQueued()).isEqualTo(20);
    assertThat(catalog.options("ctx-aware_2")).isEqualTo(new ServiceOptions());
    assertThat(catalog.toString()).contains("echo=" + EchoService.class.getName());
    assertThatThrownBy(() -> catalog.names().add("x")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> catalog.options("nope")).hasMessageContaining("no service 'nope'");

    assertThat(ServiceCatalog.fromJson(new JsonObject()).names()).isEmpty();
    ServiceCatalog coded = ServiceCatalog.create()
      .add("echo", EchoService.class, null)
      .add("supplied", EchoService::new, new ServiceOptions().setMaxConcurrency(2));
    assertThat(coded.names()).containsExactly("echo", "supplied");
    assertThat(coded.options("supplied").getMaxConcurrency()).isEqualTo(2);
    assertThatThrownBy(() -> coded.add("echo", EchoService::new, null))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already in the catalogue");
  }

  @Test
  void aMissingClassIsReportedAtNodeStart() {
    assertThatThrownBy(() -> ServiceCatalog.fromJson(config("profile", "com.example.NoSuchService")))
      .isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("Service 'profile'")
      .hasMessageContaining("com.example.NoSuchService is not on the node's classpath");
    assertThatThrownBy(() -> ServiceCatalog.fromJson(new JsonObject().put("services",
      new JsonObject().put("profile", new JsonObject()))))
      .hasMessageContaining("\"class\" must name the service class");
    assertThatThrownBy(() -> ServiceCatalog.fromJson(new JsonObject().put("services", "echo")))
      .hasMessageContaining("'services' must be a JSON object");
    assertThatThrownBy(() -> ServiceCatalog.fromJson(new JsonObject().put("services",
      new JsonObject().put("echo", EchoService.class.getName()))))
      .hasMessageContaining("its entry must be a JSON object");
    assertThatThrownBy(() -> ServiceCatalog.fromJson(new JsonObject().put("services", new JsonObject()
      .put("echo", new JsonObject().put("class", EchoService.class.getName()).put("options", 3)))))
      .hasMessageContaining("\"options\" must be a JSON object");
    assertThatThrownBy(() -> ServiceCatalog.fromJson(new JsonObject().put("services", new JsonObject()
      .put("echo", new JsonObject().put("class", EchoService.class.getName())
        .put("options", new JsonObject().put("maxConcurrency", 0))))))
      .hasMessageContaining("Service 'echo': bad options");
  }

  @Test
  void aClassWithoutAUsableConstructorIsRefused() {
    assertThatThrownBy(() -> ServiceCatalog.fromJson(config("prefixer", NoUsableConstructorService.class.getName())))
      .isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("Service 'prefixer'")
      .hasMessageContaining("no constructor taking no argument or a ServiceContext");
    assertThatThrownBy(() -> ServiceCatalog.fromJson(config("runnable", Runnable.class.getName())))
      .hasMessageContaining("cannot be instantiated");
  }

  @Test
  void aBadNameIsRefused() {
    for (String bad : new String[]{"io.sagebus.cluster.Marker", "a b", "", "-echo", "echo!", "x".repeat(101)}) {
      assertThatThrownBy(() -> ServiceCatalog.fromJson(config(bad, EchoService.class.getName())))
        .as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Bad service name");
      assertThatThrownBy(() -> ServiceCatalog.create().add(bad, EchoService.class, null))
        .as(bad).hasMessageContaining("Bad service name");
    }
    assertThatThrownBy(() -> ServiceCatalog.create().add(null, EchoService::new, null))
      .hasMessageContaining("must not be null");
  }
}
