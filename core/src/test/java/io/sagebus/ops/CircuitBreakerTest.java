package io.sagebus.ops;

import io.sagebus.CallOptions;
import io.sagebus.CircuitBreakerPolicy;
import io.sagebus.CircuitOpenException;
import io.sagebus.DataStream;
import io.sagebus.EnvironmentOptions;
import io.sagebus.FailureCode;
import io.sagebus.JobResult;
import io.sagebus.LocalEnvironment;
import io.sagebus.MapFunction;
import io.sagebus.OnError;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceCallException;
import io.sagebus.ServiceOptions;
import io.sagebus.impl.ops.Operations;
import io.sagebus.impl.ops.ServiceOps;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.FlakyService;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class CircuitBreakerTest {

  /** Fails while the test says so. */
  public static class Switchable {
    private final AtomicBoolean failing;
    private final AtomicInteger calls;

    Switchable(AtomicBoolean failing, AtomicInteger calls) {
      this.failing = failing;
      this.calls = calls;
    }

    public String process(String who) {
      calls.incrementAndGet();
      if (failing.get()) {
        throw new IllegalStateException("unwell");
      }
      return "hello " + who;
    }
  }

  private final AtomicBoolean failing = new AtomicBoolean(true);
  private final AtomicInteger calls = new AtomicInteger();
  private LocalEnvironment env;
  private SagebusHealth health;

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "breakers", new EnvironmentOptions());
    env.registerService("switch", () -> new Switchable(failing, calls), new ServiceOptions()
      .setCircuitBreaker(new CircuitBreakerPolicy().setMaxFailures(2).setResetTimeout(Duration.ofMillis(300))));
    env.registerService("echo", EchoService.class, new ServiceOptions()
      .setCircuitBreaker(new CircuitBreakerPolicy().setMaxFailures(1).setResetTimeout(Duration.ofMillis(300))));
    env.start().await();
    health = SagebusHealth.create(env);
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  private boolean ready(String procedure) {
    CheckResult result = health.readiness().checkStatus(procedure).await();
    return Boolean.TRUE.equals(result.getUp());
  }

  private ServiceOps ops(Vertx vertx, String service) {
    return Operations.of(vertx).find("breakers", service);
  }

  @Test
  void serviceErrorsOpenTheCircuitWhichFailsAtOnceAndIsNotReady(Vertx vertx) {
    assertThat(ready("services/switch")).isTrue();
    for (int i = 0; i < 2; i++) {
      ServiceCallException e = catchThrowableOfType(ServiceCallException.class, () -> env.services().call("switch", "a"));
      assertThat(e.code()).isEqualTo(FailureCode.SERVICE_ERROR);
    }
    assertThat(ops(vertx, "switch").circuitState()).isEqualTo(CircuitBreakerState.OPEN);

    CircuitOpenException open = catchThrowableOfType(CircuitOpenException.class,
      () -> env.services().call("switch", CallOptions.method("process"), "b"));
    assertThat(open.code()).isEqualTo(FailureCode.CIRCUIT_OPEN);
    assertThat(open.service()).isEqualTo("switch");
    assertThat(open.method()).isEqualTo("process");
    assertThat(calls.get()).as("an open circuit sends nothing").isEqualTo(2);
    assertThat(ready("services/switch")).isFalse();
    assertThat(health.readiness().checkStatus().await().getUp()).isFalse();
    assertThat(env.openResources()).contains("timer circuit breaker reset of switch");
    assertThat(health.readiness().invoke("services/switch").await().encode()).contains("circuit breaker open");

    // After the reset timeout one trial call goes through; its success closes the circuit.
    failing.set(false);
    await().until(() -> ops(vertx, "switch").circuitState() == CircuitBreakerState.HALF_OPEN);
    assertThat(ready("services/switch")).isFalse();
    assertThat(env.services().<String>call("switch", "c")).isEqualTo("hello c");
    assertThat(ops(vertx, "switch").circuitState()).isEqualTo(CircuitBreakerState.CLOSED);
    assertThat(ready("services/switch")).isTrue();
    assertThat(env.openResources()).noneMatch(r -> r.contains("circuit breaker"));
  }

  /** Calls the switch service for each record, from the operator's virtual thread. */
  static final class CallSwitch extends MapFunction<String, String> {
    @Override
    public String execute(String value) {
      return callService("switch", value);
    }
  }

  @Test
  void operatorsOpenTheCircuitAndItsResetOutlivesTheirJob(Vertx vertx) {
    List<String> errors = new CopyOnWriteArrayList<>();
    DataStream<String> called = env.fromBatch(List.of("a", "b", "c")).map(new CallSwitch()).onError(OnError.SIDE_OUTPUT);
    called.sink(record -> { });
    called.failures().sink(failed -> errors.add(failed.error()));
    JobResult result = env.submit().await().completion().await();
    assertThat(result.status().name()).isEqualTo("COMPLETED");
    assertThat(errors).containsExactly(ServiceCallException.class.getName(), ServiceCallException.class.getName(),
      CircuitOpenException.class.getName());
    assertThat(calls.get()).isEqualTo(2);
    // The job's operators are gone; the breaker's reset timer is not: it turns half-open, and a call closes it.
    failing.set(false);
    await().until(() -> ops(vertx, "switch").circuitState() == CircuitBreakerState.HALF_OPEN);
    List<String> out = new CopyOnWriteArrayList<>();
    env.fromBatch(List.of("d")).map(new CallSwitch()).sink(out::add);
    env.submit().await().completion().await();
    assertThat(out).containsExactly("hello d");
    assertThat(ops(vertx, "switch").circuitState()).isEqualTo(CircuitBreakerState.CLOSED);
  }

  @Test
  void aFailedTrialCallOpensTheCircuitAgain(Vertx vertx) {
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> env.services().call("switch", "a")).isInstanceOf(ServiceCallException.class);
    }
    await().until(() -> ops(vertx, "switch").circuitState() == CircuitBreakerState.HALF_OPEN);
    assertThatThrownBy(() -> env.services().call("switch", "trial"))
      .isInstanceOfSatisfying(ServiceCallException.class, e -> assertThat(e.code()).isEqualTo(FailureCode.SERVICE_ERROR));
    assertThat(ops(vertx, "switch").circuitState()).isEqualTo(CircuitBreakerState.OPEN);
    assertThat(ready("services/switch")).isFalse();
  }

  @Test
  void badArgumentsAndUnknownMethodsNeverOpenTheCircuit(Vertx vertx) {
    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> env.services().call("echo", CallOptions.method("add"), "x", "y"))
        .isInstanceOfSatisfying(ServiceCallException.class, e -> assertThat(e.code()).isEqualTo(FailureCode.BAD_ARGUMENTS));
      assertThatThrownBy(() -> env.services().call("echo", CallOptions.method("nope"), 1))
        .isInstanceOfSatisfying(ServiceCallException.class, e -> assertThat(e.code()).isEqualTo(FailureCode.UNKNOWN_METHOD));
    }
    assertThat(ops(vertx, "echo").circuitState()).isEqualTo(CircuitBreakerState.CLOSED);
    assertThat(ready("services/echo")).isTrue();
    assertThat(env.services().<Integer>call("echo", CallOptions.method("add"), 2, 3)).isEqualTo(5);
  }

  @Test
  void timeoutsCountAsFailures(Vertx vertx) {
    // FlakyService hangs on its first call: it times out, and with maxFailures 1 that opens the circuit.
    AtomicInteger flakyCalls = new AtomicInteger();
    LocalEnvironment other = LocalEnvironment.create(vertx, "timeouts", new EnvironmentOptions());
    try {
      other.registerService("flaky", () -> new FlakyService(1, flakyCalls), new ServiceOptions()
        .setDrainTimeout(Duration.ZERO)
        .setCircuitBreaker(new CircuitBreakerPolicy().setMaxFailures(1).setResetTimeout(Duration.ofSeconds(30))));
      other.start().await();
      assertThatThrownBy(() -> other.services().call("flaky", CallOptions.create().timeout(Duration.ofMillis(100)), "x"))
        .isInstanceOf(io.sagebus.ServiceTimeoutException.class);
      assertThat(Operations.of(vertx).find("timeouts", "flaky").circuitState()).isEqualTo(CircuitBreakerState.OPEN);
      assertThatThrownBy(() -> other.services().call("flaky", "y")).isInstanceOf(CircuitOpenException.class);
    } finally {
      other.close().await();
    }
  }

  @Test
  void aRetriedCallThatSucceedsIsOneSuccess(Vertx vertx) {
    AtomicInteger flakyCalls = new AtomicInteger();
    LocalEnvironment other = LocalEnvironment.create(vertx, "retried", new EnvironmentOptions());
    try {
      // maxFailures 1: were a timed-out attempt counted, the circuit would open.
      other.registerService("flaky", () -> new FlakyService(1, flakyCalls), new ServiceOptions()
        .setMaxConcurrency(2).setDrainTimeout(Duration.ZERO)
        .setCircuitBreaker(new CircuitBreakerPolicy().setMaxFailures(1)));
      other.start().await();
      Object reply = other.services().call("flaky", CallOptions.create().timeout(Duration.ofSeconds(5))
        .retry(new RetryPolicy().setAttemptTimeout(Duration.ofMillis(200))), "v");
      assertThat(reply).isEqualTo("v");
      assertThat(flakyCalls.get()).isEqualTo(2);
      assertThat(Operations.of(vertx).find("retried", "flaky").circuitState()).isEqualTo(CircuitBreakerState.CLOSED);
    } finally {
      other.close().await();
    }
  }

  @Test
  void closingTheEnvironmentClosesItsBreakersAndTheirTimers(Vertx vertx) {
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> env.services().call("switch", "a")).isInstanceOf(ServiceCallException.class);
    }
    ServiceOps ops = ops(vertx, "switch");
    assertThat(ops.circuitState()).isEqualTo(CircuitBreakerState.OPEN);
    env.close().await();
    assertThat(env.openResources()).isEmpty();
    assertThat(vertx.deploymentIDs()).isEmpty();
    assertThat(Operations.of(vertx).find("breakers", "switch")).isNull();
    // The reset timer (300 ms) died with the environment: the breaker never turns half-open. A half-open breaker
    // never turns back to OPEN by itself, so the wait fails then; the long limit is for a loaded machine's polling.
    await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(10))
      .until(() -> ops.circuitState() == CircuitBreakerState.OPEN);
  }

  @Test
  void servicesWithoutAPolicyHaveNoBreaker(Vertx vertx) {
    LocalEnvironment other = LocalEnvironment.create(vertx, "plain", new EnvironmentOptions());
    try {
      other.registerService("echo", EchoService.class).start().await();
      assertThat(other.services().<String>call("echo", "x")).isEqualTo("x");
      assertThat(Operations.of(vertx).find("plain", "echo").circuitState()).isNull();
      assertThat(SagebusHealth.create(other).readiness().invoke("services/echo").await().encode())
        .doesNotContain("circuit");
    } finally {
      other.close().await();
    }
  }
}
