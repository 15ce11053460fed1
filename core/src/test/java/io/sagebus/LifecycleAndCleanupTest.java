package io.sagebus;

import io.netty.channel.epoll.Epoll;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.LatchService;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

@ExtendWith(VertxExtension.class)
class LifecycleAndCleanupTest {

  /** Records its hooks, shared across instances through the given list. */
  public static class Recorder implements ServiceLifecycle {
    private final List<String> events;
    private ServiceContext ctx;

    Recorder(List<String> events) {
      this.events = events;
    }

    @Override
    public void setup(ServiceContext context) {
      ctx = context;
      events.add("setup " + context.name() + "#" + context.instanceIndex() + " " + context.address()
        + " " + context.config().getString("greeting") + " on virtual thread " + Thread.currentThread().isVirtual());
    }

    @Override
    public void start() {
      events.add("start #" + ctx.instanceIndex());
    }

    public String process(String who) {
      events.add("call " + who);
      return ctx.config().getString("greeting") + " " + who;
    }

    @Override
    public void stop() {
      events.add("stop #" + ctx.instanceIndex());
    }

    @Override
    public void cleanup() {
      events.add("cleanup #" + ctx.instanceIndex());
    }
  }

  @Test
  void hooksRunInOrderWithTheServiceContext(Vertx vertx) {
    List<String> events = new CopyOnWriteArrayList<>();
    LocalEnvironment env = LocalEnvironment.create(vertx, "hooks", new EnvironmentOptions());
    env.registerService("greeter", () -> new Recorder(events),
      new ServiceOptions().setConfig(new JsonObject().put("greeting", "hello")));
    env.start().await();
    assertThat((String) env.services().call("greeter", "ada")).isEqualTo("hello ada");
    env.close().await();
    assertThat(events).containsExactly(
      "setup greeter#0 sagebus.hooks.service.greeter hello on virtual thread true",
      "start #0", "call ada", "stop #0", "cleanup #0");
  }

  /** Fails to start on instance 1. */
  public static class FailsOnSecondInstance implements ServiceLifecycle {
    static final List<String> EVENTS = new CopyOnWriteArrayList<>();
    private int index;

    @Override
    public void setup(ServiceContext context) {
      index = context.instanceIndex();
    }

    @Override
    public void start() {
      if (index == 1) {
        throw new IllegalStateException("instance 1 cannot start");
      }
      EVENTS.add("started " + index);
    }

    @Override
    public void stop() {
      EVENTS.add("stopped " + index);
    }

    @Override
    public void cleanup() {
      EVENTS.add("cleaned " + index);
    }

    public String process() {
      return "ok";
    }
  }

  @Test
  void failedDeployRollsBackTheInstancesThatStarted(Vertx vertx) {
    FailsOnSecondInstance.EVENTS.clear();
    LocalEnvironment env = LocalEnvironment.create(vertx, "rollback", new EnvironmentOptions());
    try {
      env.registerService("fragile", FailsOnSecondInstance.class, new ServiceOptions().setInstances(3));
      ServiceDeploymentException e = catchThrowableOfType(ServiceDeploymentException.class, () -> env.start().await());
      assertThat(e.getMessage()).contains("fragile", "instance 1 cannot start");
      assertThat(FailsOnSecondInstance.EVENTS).contains("started 0", "started 2", "stopped 0", "stopped 2",
        "cleaned 0", "cleaned 1", "cleaned 2");
      assertNoHandlers(vertx, "sagebus.rollback.service.fragile");
      assertThat(env.openResources()).containsExactly("consumer sagebus.rollback.manager");
    } finally {
      env.close().await();
    }
  }

  @Test
  void serviceTaskRefusesToStartOutsideAVirtualThreadContext(Vertx vertx) {
    ServiceTaskVerticle task = new ServiceTaskVerticle("manual", "echo", EchoService::new, new ServiceOptions());
    assertThatThrownBy(() -> vertx.deployVerticle(task).await())
      .isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("VIRTUAL_THREAD");
    assertThatThrownBy(() -> vertx.deployVerticle(new ServiceTaskVerticle("manual", "echo", EchoService::new,
      new ServiceOptions()), new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)).await())
      .hasMessageContaining("VIRTUAL_THREAD");
  }

  @Test
  void handDeployedVerticlesServeCalls(Vertx vertx) {
    DeploymentManagerVerticle manager = new DeploymentManagerVerticle("byhand", new EnvironmentOptions());
    manager.registerService("echo", EchoService.class, new ServiceOptions());
    String managerId = vertx.deployVerticle(manager).await();
    vertx.eventBus().request(DeploymentManagerVerticle.address("byhand"),
      new JsonObject().put("action", "deploy").put("service", "echo")).await();
    String taskId = vertx.deployVerticle(new ServiceTaskVerticle("byhand", "upper", () -> new Object() {
      @SuppressWarnings("unused")
      public String process(String s) {
        return s.toUpperCase();
      }
    }, new ServiceOptions()), new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD)).await();
    ServiceClient client = ServiceClient.create(vertx, "byhand");
    assertThat((String) client.call("echo", "hi")).isEqualTo("hi");
    assertThat((String) client.call("upper", "hi")).isEqualTo("HI");
    JsonObject list = vertx.eventBus().<JsonObject>request(DeploymentManagerVerticle.address("byhand"),
      new JsonObject().put("action", "list")).await().body();
    assertThat(list.getJsonArray("services").getJsonObject(0).getInteger("running")).isEqualTo(1);
    vertx.undeploy(taskId).await();
    vertx.undeploy(managerId).await();
    assertNoHandlers(vertx, "sagebus.byhand.service.echo");
    assertThatThrownBy(() -> client.call("echo", "hi")).isInstanceOf(ServiceNotFoundException.class);
  }

  @Test
  void undeployDrainsExecutingCallsAndStopsQueuedOnesAtOnce(Vertx vertx) {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger inside = new AtomicInteger();
    LocalEnvironment env = LocalEnvironment.create(vertx, "drain", new EnvironmentOptions());
    try {
      env.registerService("held", () -> new LatchService(release, inside, new AtomicInteger()));
      env.start().await();
      Future<Object> executing = env.services().callAsync("held", "running");
      await().atMost(Duration.ofSeconds(5)).until(() -> inside.get() == 1);
      Future<Object> queued = env.services().callAsync("held", "waiting");
      await().atMost(Duration.ofSeconds(5)).until(() -> env.services().stats("held").await().queued() == 1);
      Future<Void> undeployed = env.undeploy("held");
      ServiceCallException stopped = catchThrowableOfType(ServiceCallException.class, queued::await);
      assertThat(stopped.code()).isEqualTo(FailureCode.STOPPING);
      assertThat(executing.isComplete()).isFalse();
      release.countDown();
      assertThat(executing.await()).isEqualTo("running");
      undeployed.await();
      assertNoHandlers(vertx, "sagebus.drain.service.held");
      env.deploy("held").await();
      assertThat((Object) env.services().call("held", "again")).isEqualTo("again");
    } finally {
      release.countDown();
      env.close().await();
    }
  }

  @Test
  void closeLeavesNothingRunning(Vertx vertx) {
    LocalEnvironment env = LocalEnvironment.create(vertx, "leaks", new EnvironmentOptions());
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger inside = new AtomicInteger();
    env.registerService("echo", EchoService.class, new ServiceOptions().setInstances(2).setMaxConcurrency(4))
      .registerService("late", () -> new LatchService(release, inside, new AtomicInteger()),
        new ServiceOptions().setMaxConcurrency(1).setMaxQueued(0).setDrainTimeout(Duration.ofMillis(100)));
    env.start().await();
    for (int i = 0; i < 50; i++) {
      assertThat((Object) env.services().call("echo", i)).isEqualTo(i);
    }
    // 'late' is full with one call held inside; a retried call waits for its next attempt on a timer when the
    // environment closes.
    Future<Object> held = env.services().callAsync("late", CallOptions.create().timeout(Duration.ofSeconds(20)), 0);
    await().atMost(Duration.ofSeconds(5)).until(() -> inside.get() == 1);
    Future<Object> waiting = env.services().callAsync("late", CallOptions.create().timeout(Duration.ofSeconds(20))
      .retry(new RetryPolicy().setMaxAttempts(100).setInitialBackoff(Duration.ofSeconds(5))
        .setMaxBackoff(Duration.ofSeconds(5))), 1);
    await().atMost(Duration.ofSeconds(5)).until(() -> env.openResources().stream().anyMatch(r -> r.startsWith("timer")));
    assertThat(env.openResources()).contains("consumer sagebus.leaks.manager",
      "consumer sagebus.leaks.service.echo #0", "consumer sagebus.leaks.service.echo #1");

    env.close().await();
    release.countDown();

    assertThat(env.openResources()).isEmpty();
    assertThat(catchThrowable(held::await)).isInstanceOf(ServiceCallException.class);
    ServiceCallException stopped = catchThrowableOfType(ServiceCallException.class, waiting::await);
    assertThat(stopped.code()).isEqualTo(FailureCode.STOPPING);
    for (String address : List.of("sagebus.leaks.manager", "sagebus.leaks.service.echo", "sagebus.leaks.service.late")) {
      assertNoHandlers(vertx, address);
    }
    assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.isAlive() && !t.isVirtual()
      && t.getName().toLowerCase().contains("sagebus"));
    assertThatThrownBy(() -> env.registerService("again", EchoService.class)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void environmentWithItsOwnVertxClosesIt() {
    LocalEnvironment env = LocalEnvironment.create("owned");
    env.registerService("echo", EchoService.class);
    env.start().await();
    assertThat((Object) env.services().call("echo", "x")).isEqualTo("x");
    env.close().await();
    assertThat(env.openResources()).isEmpty();
    assertThatThrownBy(() -> env.vertx().setTimer(1, id -> { })).hasMessageContaining("terminated");
  }

  @Test
  void anEnvironmentsOwnVertxRunsOnTheNativeTransportWhenItsJarIsThere() {
    // Core's tests carry Netty's epoll jar for Linux x86_64; elsewhere it does not load and Vert.x uses NIO.
    assumeTrue(Epoll.isAvailable(), () -> "Netty's epoll transport does not load here: " + Epoll.unavailabilityCause());
    LocalEnvironment env = LocalEnvironment.create("native");
    try {
      env.registerService("echo", EchoService.class);
      env.start().await();
      assertThat(env.vertx().isNativeTransportEnabled()).isTrue();
      assertThat((Object) env.services().call("echo", "x")).isEqualTo("x");
    } finally {
      env.close().await();
    }
  }

  @Test
  void twoEnvironmentsOfOneNameCannotShareAVertx(Vertx vertx) {
    LocalEnvironment env = LocalEnvironment.create(vertx, "unique", new EnvironmentOptions());
    try {
      assertThatThrownBy(() -> LocalEnvironment.create(vertx, "unique", new EnvironmentOptions()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("unique");
    } finally {
      env.close().await();
    }
    LocalEnvironment.create(vertx, "unique", new EnvironmentOptions()).close().await();
  }

  @Test
  void statsCountRequestsErrorsAndExecutionTime(Vertx vertx) {
    LocalEnvironment env = LocalEnvironment.create(vertx, "stats", new EnvironmentOptions());
    try {
      env.registerService("echo", EchoService.class);
      env.start().await();
      for (int i = 0; i < 10; i++) {
        env.services().call("echo", i);
      }
      catchThrowableOfType(ServiceCallException.class, () -> env.services().call("echo", CallOptions.method("nope")));
      catchThrowableOfType(ServiceCallException.class, () -> env.services().call("echo", CallOptions.method("add"), 1));
      ServiceStats stats = env.services().stats("echo").await();
      assertThat(stats.service()).isEqualTo("echo");
      assertThat(stats.requests()).isEqualTo(12);
      assertThat(stats.succeeded()).isEqualTo(10);
      assertThat(stats.errors(FailureCode.UNKNOWN_METHOD)).isEqualTo(1);
      assertThat(stats.errors(FailureCode.BAD_ARGUMENTS)).isEqualTo(1);
      assertThat(stats.maxExecutionMicros()).isGreaterThanOrEqualTo(stats.meanExecutionMicros());
      assertThat(stats.inFlight()).isZero();
      assertThat(ServiceStats.fromJson(stats.toJson())).isEqualTo(stats);
      assertThatThrownBy(() -> env.services().stats("nope").await()).isInstanceOf(ServiceNotFoundException.class);
    } finally {
      env.close().await();
    }
  }

  static void assertNoHandlers(Vertx vertx, String address) {
    Throwable failure = catchThrowableOfType(ReplyException.class,
      () -> vertx.eventBus().request(address, new JsonObject()).await());
    assertThat(((ReplyException) failure).failureType()).as(address).isEqualTo(ReplyFailure.NO_HANDLERS);
  }
}
