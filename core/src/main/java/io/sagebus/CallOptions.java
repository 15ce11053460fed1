package io.sagebus;

import com.fasterxml.jackson.core.type.TypeReference;
import io.vertx.core.json.JsonObject;

import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Objects;

/**
 * What one call names beyond its service and arguments: the method, the timeout, the result
 * type and the retry behaviour. Immutable: every modifier returns a new instance.
 *
 * <pre>{@code
 * Profile p = client.call("profile",
 *     CallOptions.method("lookup").timeout(Duration.ofSeconds(2)).resultType(Profile.class),
 *     userId);
 * }</pre>
 *
 * Anything left unset falls back to the service's {@link ServiceOptions}, then to the
 * environment's {@link EnvironmentOptions}.
 */
public final class CallOptions {

  /** The method called when a call names none: {@code process}, as in SAGE. */
  public static final String DEFAULT_METHOD = "process";

  private static final CallOptions DEFAULTS = new CallOptions(DEFAULT_METHOD, null, null, null, null);

  private final String method;
  private final Duration timeout;
  private final Type resultType;
  private final RetryPolicy retryPolicy;
  private final Boolean retryable;

  private CallOptions(String method, Duration timeout, Type resultType, RetryPolicy retryPolicy, Boolean retryable) {
    this.method = method;
    this.timeout = timeout;
    this.resultType = resultType;
    this.retryPolicy = retryPolicy;
    this.retryable = retryable;
  }

  /**
   * {@return options that name nothing: method {@code process}, every other setting from the service or environment}
   */
  public static CallOptions create() {
    return DEFAULTS;
  }

  /**
   * {@return options calling {@code method}}
   *
   * @param method the name of the public method to call
   * @throws IllegalArgumentException when {@code method} is null or blank
   */
  public static CallOptions method(String method) {
    return DEFAULTS.withMethod(method);
  }

  /**
   * Reads options from JSON: {@code method}, {@code timeoutMillis}, {@code retryable},
   * {@code retryPolicy}. A result type has no JSON form.
   *
   * @param json the JSON form
   * @return the options
   * @throws IllegalArgumentException when a value is out of range
   */
  public static CallOptions fromJson(JsonObject json) {
    CallOptions o = method(json.getString("method", DEFAULT_METHOD));
    Long timeoutMillis = json.getLong("timeoutMillis");
    if (timeoutMillis != null) {
      o = o.timeout(Duration.ofMillis(timeoutMillis));
    }
    Boolean r = json.getBoolean("retryable");
    if (r != null) {
      o = o.retryable(r);
    }
    JsonObject policy = json.getJsonObject("retryPolicy");
    if (policy != null) {
      o = o.retry(new RetryPolicy(policy));
    }
    return o;
  }

  /**
   * {@return the JSON form, read back by {@link #fromJson(JsonObject)}; the result type is left out}
   */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("method", method);
    if (timeout != null) {
      json.put("timeoutMillis", timeout.toMillis());
    }
    if (retryable != null) {
      json.put("retryable", retryable);
    }
    if (retryPolicy != null) {
      json.put("retryPolicy", retryPolicy.toJson());
    }
    return json;
  }

  /**
   * {@return a copy calling {@code method}}
   *
   * @param method the name of the public method to call
   * @throws IllegalArgumentException when {@code method} is null or blank
   */
  public CallOptions withMethod(String method) {
    if (method == null || method.isBlank()) {
      throw new IllegalArgumentException("method must name a public method of the service, got '" + method + "'");
    }
    return new CallOptions(method, timeout, resultType, retryPolicy, retryable);
  }

  /**
   * {@return a copy with that timeout}
   *
   * @param timeout the call's whole budget, retries included; positive
   * @throws IllegalArgumentException when not positive
   */
  public CallOptions timeout(Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    return new CallOptions(method, timeout, resultType, retryPolicy, retryable);
  }

  /**
   * {@return a copy converting the result to {@code type}}
   *
   * @param type the type the result is converted to with Jackson (a POJO, a record, {@code String}, ...)
   * @throws NullPointerException when null
   */
  public CallOptions resultType(Class<?> type) {
    return new CallOptions(method, timeout, Objects.requireNonNull(type, "type"), retryPolicy, retryable);
  }

  /**
   * {@return a copy converting the result to {@code type}}
   *
   * @param type a generic type the result is converted to, e.g. {@code new TypeReference<List<Profile>>() {}}
   * @throws NullPointerException when null
   */
  public CallOptions resultType(TypeReference<?> type) {
    return new CallOptions(method, timeout, Objects.requireNonNull(type, "type").getType(), retryPolicy, retryable);
  }

  /**
   * Sets the retry policy and marks the call retryable.
   *
   * @param policy how to retry this call
   * @return a copy retried by {@code policy}
   * @throws NullPointerException when null
   */
  public CallOptions retry(RetryPolicy policy) {
    return new CallOptions(method, timeout, resultType, new RetryPolicy(Objects.requireNonNull(policy, "policy")), true);
  }

  /**
   * {@return a copy marked so}
   *
   * @param retryable whether this call may be sent again after a timed-out attempt (the service may then run it twice)
   */
  public CallOptions retryable(boolean retryable) {
    return new CallOptions(method, timeout, resultType, retryPolicy, retryable);
  }

  /**
   * {@return the method to call}
   */
  public String getMethod() {
    return method;
  }

  /**
   * {@return the call's timeout, or {@code null} when the service's or environment's default applies}
   */
  public Duration getTimeout() {
    return timeout;
  }

  /**
   * {@return the type the result is converted to, or {@code null} for the JSON value as it arrived}
   */
  public Type getResultType() {
    return resultType;
  }

  /**
   * {@return the call's retry policy, or {@code null} when the service's applies}
   */
  public RetryPolicy getRetryPolicy() {
    return retryPolicy == null ? null : new RetryPolicy(retryPolicy);
  }

  /**
   * {@return whether the call is retryable, or {@code null} when the service's setting applies}
   */
  public Boolean getRetryable() {
    return retryable;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CallOptions that && method.equals(that.method) && Objects.equals(timeout, that.timeout)
      && Objects.equals(resultType, that.resultType) && Objects.equals(retryPolicy, that.retryPolicy)
      && Objects.equals(retryable, that.retryable);
  }

  @Override
  public int hashCode() {
    return Objects.hash(method, timeout, resultType, retryPolicy, retryable);
  }

  @Override
  public String toString() {
    return "CallOptions" + toJson().encode() + (resultType == null ? "" : " -> " + resultType.getTypeName());
  }
}
