package io.sagebus;

import io.vertx.core.json.JsonObject;

/**
 * Statistics of one batched method of a service (see {@link BatchPolicy}), summed over its
 * instances in this JVM: part of {@link ServiceStats#batches()}.
 *
 * @param batches        invocations of the method (batches run)
 * @param items          items those batches held (calls that entered a batch)
 * @param maxSize        the largest batch run
 * @param meanWaitMicros mean time an item waited, from its arrival at the instance to the start of its batch
 * @param maxWaitMicros  the longest such wait
 */
public record BatchStats(long batches, long items, int maxSize, long meanWaitMicros, long maxWaitMicros) {

  /**
   * {@return the mean number of items per batch, 0 before the first}
   */
  public double meanSize() {
    return batches == 0 ? 0 : (double) items / batches;
  }

  /**
   * {@return the JSON form, read back by {@link #fromJson(JsonObject)}}
   */
  public JsonObject toJson() {
    return new JsonObject().put("batches", batches).put("items", items).put("maxSize", maxSize)
      .put("meanWaitMicros", meanWaitMicros).put("maxWaitMicros", maxWaitMicros);
  }

  /**
   * {@return the statistics}
   *
   * @param json the form written by {@link #toJson()}
   */
  public static BatchStats fromJson(JsonObject json) {
    return new BatchStats(json.getLong("batches", 0L), json.getLong("items", 0L), json.getInteger("maxSize", 0),
      json.getLong("meanWaitMicros", 0L), json.getLong("maxWaitMicros", 0L));
  }
}
