package io.sagebus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Date;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Every request to a service address is answered, at once when it cannot run, whatever its body:
 * Java-serialized, nested deeper than the bound, or a method that throws an Error. Requests in the
 * documented JSON form from a sender that is not Sagebus get plain JSON replies.
 */
@ExtendWith(VertxExtension.class)
class EveryRequestAnsweredTest {

  /** Far under the 30 s timeout the requests below carry, and loose enough for a loaded machine. */
  private static final Duration AT_ONCE = Duration.ofSeconds(5);
  private static final DeliveryOptions LONG = new DeliveryOptions().setSendTimeout(30_000);

  private Vertx vertx;
  private LocalEnvironment env;
  private final AtomicInteger ran = new AtomicInteger();

  /** A service with a plain method, a Future method, and a method that overflows its stack. */
  public static final class Deep {
    private final AtomicInteger ran;

    Deep(AtomicInteger ran) {
      this.ran = ran;
    }

    public Object process(Object value) {
      ran.incrementAndGet();
      return value;
    }

    public Future<Object> async(Object value) {
      ran.incrementAndGet();
      return Future.succeededFuture(value);
    }

    public int overflow(int n) {
      return overflow(n + 1) + 1;
    }

    public Future<Integer> overflowOnLoop(int n) {
      return Future.succeededFuture(overflow(n));
    }
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    env = LocalEnvironment.create(vertx, "answered", new EnvironmentOptions());
    env.registerService("deep", () -> new Deep(ran), new ServiceOptions().setTimeout(Duration.ofSeconds(30)));
    env.start().await();
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  private static final String ADDRESS = "sagebus.answered.service.deep";

  private ReplyException refused(Object body, DeliveryOptions options) {
    long t0 = System.nanoTime();
    Future<Message<Object>> reply = vertx.eventBus().request(ADDRESS, body, options);
    ReplyException e = catchThrowableOfType(ReplyException.class, reply::await);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(AT_ONCE);
    assertThat(e.failureType()).isEqualTo(ReplyFailure.RECIPIENT_FAILURE);
    return e;
  }

  @Test
  void aJavaSerializedBodyIsRefusedAtOnce() {
    HashMap<String, Object> map = new HashMap<>();
    map.put("method", "process");
    // The sending thread may serialize (as another JVM that allows it); between JVMs the receiver cannot even
    // read such a body (ForeignClusterMemberTest in the cluster module); here it reads a HashMap and refuses it.
    Thread sender = Thread.currentThread();
    vertx.eventBus().serializableChecker(name -> Thread.currentThread() == sender);
    try {
      ReplyException e = refused(map, LONG);
      assertThat(e.failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
      assertThat(e.getMessage()).contains("must be a JSON object");
      assertThat(refused(new Date(), LONG).failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
    } finally {
      vertx.eventBus().serializableChecker(io.vertx.core.eventbus.EventBus.DEFAULT_SERIALIZABLE_CHECKER);
    }
    assertThat(ran).hasValue(0);
  }

  @Test
  void aBodyThatIsNotAnObjectIsRefusedAtOnce() {
    assertThat(refused("process", LONG).failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
    assertThat(refused(new JsonObject().put("method", 3), LONG).failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
    assertThat(refused(new JsonObject().put("args", "x"), LONG).failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
    assertThat(refused(new JsonObject().put("timeoutMs", -5), LONG).failureCode())
      .isEqualTo(FailureCode.BAD_REQUEST.code());
  }

  private static Object nested(int depth) {
    Object value = "bottom";
    for (int i = 0; i < depth; i++) {
      value = new JsonArray().add(value);
    }
    return value;
  }

  @Test
  void argumentsNestedBeyondTheBoundAreRefusedAtOnceByEveryMethodKind() {
    for (String method : new String[]{"process", "async"}) {
      JsonObject request = new JsonObject().put("method", method).put("args", new JsonArray().add(nested(1_500)));
      ReplyException e = refused(request, LONG);
      assertThat(e.failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
      assertThat(e.getMessage()).contains("nested deeper than 256");
    }
    assertThat(ran).hasValue(0);
    // From a Sagebus caller too.
    ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
      () -> env.services().call("deep", nested(1_500)));
    assertThat(e.code()).isEqualTo(FailureCode.BAD_REQUEST);
  }

  /** Only plain-value methods: its instance reads requests on a virtual thread, not an event loop. */
  public static final class PlainOnly {
    public Object process(Object value) {
      return value;
    }
  }

  @Test
  void anInstanceReadingOnAVirtualThreadRefusesBadRequestsAtOnceToo() {
    env.registerService("plain", PlainOnly::new, new ServiceOptions().setTimeout(Duration.ofSeconds(30)));
    env.deploy("plain").await();
    String address = "sagebus.answered.service.plain";
    for (Object body : new Object[]{"process", new JsonObject().put("method", 3),
      new JsonObject().put("method", "process").put("args", new JsonArray().add(nested(1_500)))}) {
      long t0 = System.nanoTime();
      ReplyException e = catchThrowableOfType(ReplyException.class,
        () -> vertx.eventBus().request(address, body, LONG).await());
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(AT_ONCE);
      assertThat(e.failureCode()).isEqualTo(FailureCode.BAD_REQUEST.code());
    }
    assertThat((String) env.services().call("plain", "ok")).isEqualTo("ok");
  }

  @Test
  void argumentsNestedWithinTheBoundRun() {
    Object value = nested(200);
    Object back = env.services().call("deep", value);
    assertThat(back).isEqualTo(value);
    Object async = env.services().call("deep", CallOptions.method("async"), value);
    assertThat(async).isEqualTo(value);
  }

  @Test
  void aStackOverflowInTheMethodIsAnsweredAsItsError() {
    for (String method : new String[]{"overflow", "overflowOnLoop"}) {
      long t0 = System.nanoTime();
      ServiceCallException e = catchThrowableOfType(ServiceCallException.class,
        () -> env.services().call("deep", CallOptions.method(method), 0));
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(AT_ONCE);
      assertThat(e.code()).isEqualTo(FailureCode.SERVICE_ERROR);
      assertThat(e.remoteType()).isEqualTo(StackOverflowError.class.getName());
    }
    // The instance still serves.
    assertThat((String) env.services().call("deep", "ok")).isEqualTo("ok");
  }

  @Test
  void aForeignSenderGetsPlainJson() {
    JsonObject request = new JsonObject().put("method", "process").put("args", new JsonArray().add("hi"));
    Message<Object> reply = vertx.eventBus().request(ADDRESS, request, LONG).await();
    assertThat(reply.body()).isInstanceOf(JsonObject.class);
    JsonObject body = (JsonObject) reply.body();
    assertThat(body.getBoolean("success")).isTrue();
    assertThat(body.getString("result")).isEqualTo("hi");
    assertThat(body.getLong("executionTimeMicros")).isNotNull();
  }

  @Test
  void aForeignRequestWithoutABudgetGetsTheServiceDefaultTimeout() {
    LocalEnvironment tight = LocalEnvironment.create(vertx, "tight", new EnvironmentOptions());
    try {
      AtomicInteger runs = new AtomicInteger();
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      tight.registerService("held", () -> new io.sagebus.testing.LatchService(release, runs, new AtomicInteger()),
        new ServiceOptions().setMaxConcurrency(1).setMaxQueued(4).setTimeout(Duration.ofMillis(200)));
      tight.start().await();
      // The first call holds the only slot; a foreign request queued behind it outlives the service's 200 ms.
      Future<Object> holding = tight.services().callAsync("held", CallOptions.create().timeout(Duration.ofSeconds(30)), 1);
      org.awaitility.Awaitility.await().atMost(AT_ONCE).until(() -> runs.get() == 1);
      Future<Message<Object>> foreign = vertx.eventBus().request("sagebus.tight.service.held",
        new JsonObject().put("args", new JsonArray().add(2)), LONG);
      vertx.setTimer(400, id -> release.countDown());
      ReplyException e = catchThrowableOfType(ReplyException.class, foreign::await);
      assertThat(e.failureCode()).isEqualTo(FailureCode.DEADLINE_EXCEEDED.code());
      assertThat(holding.await()).isEqualTo(1);
    } finally {
      tight.close().await();
    }
  }
}
