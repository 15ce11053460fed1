package io.sagebus.cluster.impl;

import io.sagebus.RetryPolicy;
import io.sagebus.ServiceOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The JSON forms of the records kept in the cluster's maps: round trips, and the field names that
 * {@code ClusterEnvironment.nodes()} and {@code placements()} document.
 */
class ClusterRecordsTest {

  @Test
  void aNodeRecordRoundTrips() {
    NodeRecord node = new NodeRecord("node-1", "m-1", "127.0.0.1", Map.of("profile", "com.example.Profile",
      "echo", "com.example.Echo"), 1_700_000_000_000L, 4242, "25+36", 2);

    JsonObject json = node.toJson();

    assertThat(json).isEqualTo(new JsonObject().put("node", "node-1").put("member", "m-1").put("host", "127.0.0.1")
      .put("services", new JsonObject().put("echo", "com.example.Echo").put("profile", "com.example.Profile"))
      .put("joined", 1_700_000_000_000L).put("pid", 4242L).put("java", "25+36").put("processors", 2));
    assertThat(NodeRecord.fromJson(new JsonObject(json.encode()))).isEqualTo(node);
    assertThat(node.offers("echo", "com.example.Echo")).isTrue();
    assertThat(node.offers("echo", "com.example.Profile")).isFalse();
  }

  @Test
  void aNodeRecordOfThisJvmCarriesItsProcess() {
    NodeRecord node = NodeRecord.ofThisJvm("n", "m", "127.0.0.1", Map.of(), 5);

    assertThat(node.pid()).isEqualTo(ProcessHandle.current().pid());
    assertThat(node.processors()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(node.java()).isEqualTo(Runtime.version().toString());
  }

  @Test
  void aServiceRecordRoundTripsWithItsOptions() {
    ServiceOptions options = new ServiceOptions().setInstances(3).setMaxConcurrency(4).setRetryable(true)
      .setRetryPolicy(new RetryPolicy().setMaxAttempts(5).setAttemptTimeout(Duration.ofMillis(500)))
      .setConfig(new JsonObject().put("k", "v"));
    ServiceRecord service = new ServiceRecord("profile", "com.example.Profile", false, "m-1", options);

    JsonObject json = service.toJson();

    assertThat(json.getString("name")).isEqualTo("profile");
    assertThat(json.getString("type")).isEqualTo("com.example.Profile");
    assertThat(json.getBoolean("local")).isFalse();
    assertThat(json.getString("member")).isEqualTo("m-1");
    assertThat(json.getJsonObject("options")).isEqualTo(options.toJson());
    assertThat(json.getInteger("version")).as("a record made without a version").isZero();
    assertThat(ServiceRecord.fromJson(new JsonObject(json.encode()))).isEqualTo(service);

    ServiceRecord redeployed = new ServiceRecord("profile", "com.example.ProfileV2", false, "m-1", options, 3);
    assertThat(ServiceRecord.fromJson(new JsonObject(redeployed.toJson().encode()))).isEqualTo(redeployed);
    json.remove("version");
    assertThat(ServiceRecord.fromJson(json).version()).as("written before versions").isZero();
    assertThatThrownBy(() -> new ServiceRecord("s", "t", false, "m", options, -1))
      .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aServiceRecordKeepsItsOptionsToItself() {
    ServiceOptions options = new ServiceOptions().setInstances(2);
    ServiceRecord service = new ServiceRecord("s", "supplier", true, "m", options);

    options.setInstances(5);
    service.options().setInstances(7);

    assertThat(service.options().getInstances()).isEqualTo(2);
  }

  @Test
  void aPlacementRecordRoundTripsWithItsNodesById() {
    PlacementRecord placement = new PlacementRecord("echo", "com.example.Echo", 3, Map.of("node-2", 1, "node-1", 2));

    JsonObject json = placement.toJson();

    assertThat(json.encode()).isEqualTo("{\"service\":\"echo\",\"type\":\"com.example.Echo\",\"replicas\":3,"
      + "\"nodes\":{\"node-1\":2,\"node-2\":1}}");
    assertThat(PlacementRecord.fromJson(new JsonObject(json.encode()))).isEqualTo(placement);
    assertThat(placement.running()).isEqualTo(3);
    assertThat(placement.on("node-3")).isZero();
    assertThat(placement.plus("node-3", 2).nodes()).isEqualTo(Map.of("node-1", 2, "node-2", 1, "node-3", 2));
    assertThat(placement.keeping("node-2"::equals).nodes()).isEqualTo(Map.of("node-2", 1));
  }

  @Test
  void aJobRecordRoundTripsRunningAndFinished() {
    JsonObject progress = new JsonObject().put("id", "demo-1-job-1").put("recordsIn", 10);
    JobRecord running = new JobRecord("demo-1-job-1", "m-1", 100, "RUNNING", 200, null, progress, null, null);

    assertThat(running.toJson()).isEqualTo(new JsonObject().put("id", "demo-1-job-1").put("member", "m-1")
      .put("started", 100L).put("status", "RUNNING").put("updated", 200L).put("progress", progress));
    assertThat(JobRecord.fromJson(new JsonObject(running.toJson().encode()))).isEqualTo(running);

    JobRecord done = new JobRecord("demo-1-job-1", "m-1", 100, "COMPLETED", 300, 300L, progress,
      new JsonObject().put("status", "COMPLETED"), null);
    assertThat(done.toJson().getLong("finished")).isEqualTo(300L);
    assertThat(done.toJson().getJsonObject("result")).isEqualTo(new JsonObject().put("status", "COMPLETED"));
    assertThat(JobRecord.fromJson(new JsonObject(done.toJson().encode()))).isEqualTo(done);
    JobRecord failed = new JobRecord("j", "m", 1, "FAILED", 2, 2L, progress, null, "boom");
    assertThat(JobRecord.fromJson(failed.toJson())).isEqualTo(failed);

    progress.put("recordsIn", 11);
    assertThat(running.progress().getInteger("recordsIn")).as("copied on the way in").isEqualTo(10);
  }

  @Test
  void malformedRecordsAreRefused() {
    assertThatThrownBy(() -> JobRecord.fromJson(new JsonObject().put("id", "j").put("member", "m")))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"status\"");
    assertThatThrownBy(() -> NodeRecord.fromJson(new JsonObject().put("node", "n")))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"member\"");
    assertThatThrownBy(() -> ServiceRecord.fromJson(new JsonObject().put("name", "s")))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"type\"");
    assertThatThrownBy(() -> PlacementRecord.fromJson(new JsonObject().put("service", "s").put("type", "t")))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"replicas\"");
    assertThatThrownBy(() -> new PlacementRecord("s", "t", 1, Map.of("n", 0)))
      .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PlacementRecord("s", "t", -1, Map.of()))
      .isInstanceOf(IllegalArgumentException.class);
  }
}
