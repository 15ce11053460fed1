package io.sagebus.ops;

import io.sagebus.CircuitBreakerPolicy;
import io.sagebus.EnvironmentOptions;
import io.sagebus.FailureCode;
import io.sagebus.ServiceOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OpsOptionsTest {

  @Test
  void circuitBreakerPolicyDefaultsRoundTripAndCopy() {
    CircuitBreakerPolicy defaults = new CircuitBreakerPolicy();
    assertThat(defaults.getMaxFailures()).isEqualTo(5);
    assertThat(defaults.getResetTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(defaults.getFailureWindow()).isEqualTo(Duration.ofSeconds(10));
    assertThat(new CircuitBreakerPolicy(new JsonObject())).isEqualTo(defaults);

    CircuitBreakerPolicy p = new CircuitBreakerPolicy().setMaxFailures(3).setResetTimeout(Duration.ofMillis(1500))
      .setFailureWindow(Duration.ofSeconds(4));
    assertThat(new CircuitBreakerPolicy(p.toJson())).isEqualTo(p);
    assertThat(new CircuitBreakerPolicy(p.toJson()).toJson()).isEqualTo(p.toJson());
    CircuitBreakerPolicy copy = new CircuitBreakerPolicy(p);
    p.setMaxFailures(9);
    assertThat(copy.getMaxFailures()).isEqualTo(3);
  }

  @Test
  void circuitBreakerPolicyRejectsBadValues() {
    assertThatThrownBy(() -> new CircuitBreakerPolicy().setMaxFailures(0)).hasMessageContaining("maxFailures");
    assertThatThrownBy(() -> new CircuitBreakerPolicy().setResetTimeout(Duration.ZERO)).hasMessageContaining("resetTimeout");
    assertThatThrownBy(() -> new CircuitBreakerPolicy().setFailureWindow(Duration.ofMillis(999)))
      .hasMessageContaining("failureWindow");
    assertThatThrownBy(() -> new CircuitBreakerPolicy(new JsonObject().put("maxFailures", -1)))
      .hasMessageContaining("maxFailures");
  }

  @Test
  void serviceOptionsCarryTheirCircuitBreaker() {
    assertThat(new ServiceOptions().getCircuitBreaker()).isNull();
    assertThat(new ServiceOptions().toJson().containsKey("circuitBreaker")).isFalse();
    ServiceOptions o = new ServiceOptions().setCircuitBreaker(new CircuitBreakerPolicy().setMaxFailures(2));
    ServiceOptions back = new ServiceOptions(o.toJson());
    assertThat(back).isEqualTo(o);
    assertThat(back.getCircuitBreaker().getMaxFailures()).isEqualTo(2);
    ServiceOptions copy = new ServiceOptions(o);
    o.getCircuitBreaker().setMaxFailures(7);
    assertThat(copy.getCircuitBreaker().getMaxFailures()).isEqualTo(2);
    assertThat(new ServiceOptions(new ServiceOptions().toJson()).getCircuitBreaker()).isNull();
  }

  @Test
  void environmentOptionsCarryTheMetricsSwitch() {
    assertThat(new EnvironmentOptions().isMetricsEnabled()).isFalse();
    EnvironmentOptions o = new EnvironmentOptions().setMetricsEnabled(true).setSyncTimeout(Duration.ofSeconds(3));
    assertThat(new EnvironmentOptions(o.toJson())).isEqualTo(o);
    assertThat(new EnvironmentOptions(o)).isEqualTo(o);
    assertThat(new EnvironmentOptions(o.toJson()).isMetricsEnabled()).isTrue();
    assertThat(new EnvironmentOptions(new JsonObject())).isEqualTo(new EnvironmentOptions());
    assertThat(o).isNotEqualTo(new EnvironmentOptions().setSyncTimeout(Duration.ofSeconds(3)));
  }

  @Test
  void circuitOpenHasACodeOfItsOwnThatIsNotRetried() {
    assertThat(FailureCode.fromCode(FailureCode.CIRCUIT_OPEN.code())).isEqualTo(FailureCode.CIRCUIT_OPEN);
    assertThat(FailureCode.CIRCUIT_OPEN.retryable()).isFalse();
  }
}
