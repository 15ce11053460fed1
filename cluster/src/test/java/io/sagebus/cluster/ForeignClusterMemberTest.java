package io.sagebus.cluster;

import io.sagebus.FailureCode;
import io.sagebus.testing.EchoService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Date;
import java.util.HashMap;

import static io.sagebus.cluster.ClusterTesting.ENV;
import static io.sagebus.cluster.ClusterTesting.awaitVisible;
import static io.sagebus.cluster.ClusterTesting.deploy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A plain Vert.x cluster member (no Sagebus code, no Sagebus codec) calls a Sagebus service in
 * another member: the documented JSON request gets a plain JSON reply it can read, and bodies the
 * service cannot take (Java-serialized, nested beyond what JSON decoding allows) are answered
 * BAD_REQUEST at once instead of leaving the sender waiting for its timeout.
 */
class ForeignClusterMemberTest {

  /** This class's own port range: 15921 to 15940. */
  private static final int FIRST_PORT = 15921;
  private static final Duration AT_ONCE = Duration.ofSeconds(5);
  private static final DeliveryOptions LONG = new DeliveryOptions().setSendTimeout(30_000);
  private static final String ADDRESS = "sagebus." + ENV + ".service.echo";

  private static Vertx sagebus;
  private static Vertx raw;

  @BeforeAll
  static void startCluster() {
    ClusterOptions options = ClusterTesting.options(ForeignClusterMemberTest.class, FIRST_PORT);
    sagebus = ClusterTesting.start("sagebus", options);
    raw = ClusterTesting.start("raw", options);
    deploy(sagebus, "echo", EchoService::new);
    awaitVisible(raw, ADDRESS);
  }

  @AfterAll
  static void closeCluster() {
    ClusterTesting.close(raw, sagebus);
  }

  @Test
  void aJsonRequestGetsAPlainJsonReply() {
    JsonObject request = new JsonObject().put("method", "process").put("args", new JsonArray().add("hello"));
    Message<Object> reply = raw.eventBus().request(ADDRESS, request, LONG).await();
    assertThat(reply.body()).isInstanceOf(JsonObject.class);
    JsonObject body = (JsonObject) reply.body();
    assertThat(body.getBoolean("success")).isTrue();
    assertThat(body.getString("result")).isEqualTo("hello");
    // With the full envelope too, as a Sagebus caller would write it.
    JsonObject full = request.copy().put("id", "r-1").put("timeoutMs", 5_000).put("caller", "raw");
    assertThat(((JsonObject) raw.eventBus().request(ADDRESS, full, LONG).await().body()).getString("result"))
      .isEqualTo("hello");
  }

  private static ReplyException refused(Object body) {
    long t0 = System.nanoTime();
    Future<Message<Object>> reply = raw.eventBus().request(ADDRESS, body, LONG);
    ReplyException e = catchThrowableOfType(ReplyException.class, reply::await);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(AT_ONCE);
    assertThat(e.failureType()).isEqualTo(ReplyFailure.RECIPIENT_FAILURE);
    assertThat(e.failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
    return e;
  }

  @Test
  void aJavaSerializedBodyIsRefusedAtOnce() {
    // The sender allows Java serialization; the Sagebus member does not, so reading the body throws there.
    raw.eventBus().serializableChecker(name -> true);
    HashMap<String, Object> map = new HashMap<>();
    map.put("method", "process");
    assertThat(refused(map).getMessage()).contains("Java serialization is refused");
    assertThat(refused(new Date()).getMessage()).contains("Java serialization is refused");
  }

  @Test
  void aBodyNestedTooDeepIsRefusedAtOnce() {
    // 300 levels: beyond Sagebus's bound of 256 (much deeper bodies overflow the sender's own stack while
    // Vert.x encodes them; in one JVM, EveryRequestAnsweredTest sends 1,500 levels).
    for (int depth : new int[]{300}) {
      Object value = "bottom";
      for (int i = 0; i < depth; i++) {
        value = new JsonArray().add(value);
      }
      refused(new JsonObject().put("method", "process").put("args", new JsonArray().add(value)));
    }
  }
}
