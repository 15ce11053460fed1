package io.sagebus;

import io.vertx.core.json.JsonObject;

/**
 * Counters of one operator of a job, summed over its instances.
 *
 * @param name        the operator's name
 * @param parallelism its number of instances
 * @param recordsIn   records it received
 * @param recordsOut  records it emitted
 * @param errors      records that failed in it
 */
public record OperatorStats(String name, int parallelism, long recordsIn, long recordsOut, long errors) {

  /**
   * {@return the JSON form}
   */
  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("parallelism", parallelism).put("recordsIn", recordsIn)
      .put("recordsOut", recordsOut).put("errors", errors);
  }
}
