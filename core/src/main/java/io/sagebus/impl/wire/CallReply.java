package io.sagebus.impl.wire;

import io.vertx.core.json.JsonObject;

/**
 * A successful answer to a Sagebus caller: {@code {"success": true, "result", "executionTimeMicros"}}
 * as JSON between JVMs, this object itself inside one JVM. A sender that is not Sagebus (it sent
 * a plain JSON object) gets {@link #toJson()} instead, which any Vert.x member can read.
 *
 * @param result              the result as a JSON value (owned by this reply)
 * @param executionTimeMicros how long the method ran
 */
public record CallReply(Object result, long executionTimeMicros) {

  /** Reply field. */
  public static final String SUCCESS = "success";
  /** Reply field. */
  public static final String RESULT = "result";
  /** Reply field. */
  public static final String EXECUTION_TIME_MICROS = "executionTimeMicros";

  /**
   * {@return the reply's JSON form}
   */
  public JsonObject toJson() {
    return new JsonObject().put(SUCCESS, true).put(RESULT, result).put(EXECUTION_TIME_MICROS, executionTimeMicros);
  }

  /**
   * {@return the reply read from its JSON form}
   *
   * @param json a reply body
   */
  public static CallReply fromJson(JsonObject json) {
    Object micros = json.getValue(EXECUTION_TIME_MICROS);
    return new CallReply(json.getValue(RESULT), micros instanceof Number n ? n.longValue() : 0);
  }
}
