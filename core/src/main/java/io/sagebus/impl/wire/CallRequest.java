package io.sagebus.impl.wire;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A Sagebus request as a caller sends it: {@code {"method", "args", "id", "timeoutMs", "caller"}}
 * as JSON between JVMs, this object itself (passed by reference) inside one JVM. The call's
 * metadata travels in the envelope, never in headers: headers are left to trace context.
 *
 * @param method    the method to run
 * @param args      the arguments as JSON values (copied once by the caller, owned by this request)
 * @param id        the request id, kept across retries; may be {@code null} for a foreign sender
 * @param timeoutMs the budget left when it was sent, in milliseconds; {@link #NO_TIMEOUT} for none given
 * @param caller    who calls (a service name or {@code client}); may be {@code null}
 */
public record CallRequest(String method, JsonArray args, String id, long timeoutMs, String caller) {

  /** {@link #timeoutMs()} of a request that gave no budget (a foreign sender's). */
  public static final long NO_TIMEOUT = -1;

  /** Request field: the method name. */
  public static final String METHOD = "method";
  /** Request field: the arguments, a JSON array. */
  public static final String ARGS = "args";
  /** Request field: the request id. */
  public static final String ID = "id";
  /** Request field: the budget left when sent, in milliseconds. */
  public static final String TIMEOUT_MS = "timeoutMs";
  /** Request field: who calls. */
  public static final String CALLER = "caller";
  /** The method a request that names none runs. */
  public static final String DEFAULT_METHOD = "process";

  /**
   * {@return the request's JSON form}
   */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put(METHOD, method).put(ARGS, args);
    if (id != null) {
      json.put(ID, id);
    }
    if (timeoutMs != NO_TIMEOUT) {
      json.put(TIMEOUT_MS, timeoutMs);
    }
    if (caller != null) {
      json.put(CALLER, caller);
    }
    return json;
  }

  /**
   * Reads a request in its JSON form, as any sender may send it: only {@code method} and
   * {@code args} are needed ({@code method} defaults to {@value #DEFAULT_METHOD}, {@code args} to none).
   *
   * @param json the request body
   * @return the request
   * @throws IllegalArgumentException when a field has the wrong type, the budget is negative, or the
   *                                  arguments nest deeper than {@link io.sagebus.impl.wire.Protocol#MAX_NESTING_DEPTH}
   */
  public static CallRequest fromJson(JsonObject json) {
    Object method = json.getValue(METHOD);
    Object args = json.getValue(ARGS);
    Object id = json.getValue(ID);
    Object timeout = json.getValue(TIMEOUT_MS);
    Object caller = json.getValue(CALLER);
    if (method != null && !(method instanceof String)) {
      throw new IllegalArgumentException("'" + METHOD + "' must be a string");
    }
    if (args != null && !(args instanceof JsonArray)) {
      throw new IllegalArgumentException("'" + ARGS + "' must be an array");
    }
    if (id != null && !(id instanceof String)) {
      throw new IllegalArgumentException("'" + ID + "' must be a string");
    }
    if (caller != null && !(caller instanceof String)) {
      throw new IllegalArgumentException("'" + CALLER + "' must be a string");
    }
    if (args != null && io.sagebus.impl.Json.deeperThan(args, io.sagebus.impl.wire.Protocol.MAX_NESTING_DEPTH)) {
      throw new IllegalArgumentException("The arguments are nested deeper than "
        + io.sagebus.impl.wire.Protocol.MAX_NESTING_DEPTH + " levels");
    }
    long budget = NO_TIMEOUT;
    if (timeout != null) {
      if (!(timeout instanceof Number n) || n.doubleValue() < 0 || n.doubleValue() != Math.floor(n.doubleValue())) {
        throw new IllegalArgumentException("'" + TIMEOUT_MS + "' must be a whole number of milliseconds, 0 or more");
      }
      budget = n.longValue();
    }
    return new CallRequest(method == null ? DEFAULT_METHOD : (String) method,
      args == null ? new JsonArray() : (JsonArray) args, (String) id, budget, (String) caller);
  }
}
