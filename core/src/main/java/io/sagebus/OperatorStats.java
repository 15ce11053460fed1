package io.sagebus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Counters of one operator of a job, summed over its instances, with its place in the job's graph
 * and the fill of its input queues (where backpressure sits: an operator whose queues are full is
 * slower than what feeds it).
 *
 * @param name          the operator's name
 * @param parallelism   its number of instances
 * @param recordsIn     records it received
 * @param recordsOut    records it emitted, a record sent to several operators counted once; with
 *                      {@link OnError#SIDE_OUTPUT}, the {@link FailedRecord}s it sent to its side output too
 *                      (counted in {@code errors} as well)
 * @param errors        records that failed in it
 * @param kind          what it does, in lower case ({@code batch}, {@code source}, {@code map}, {@code filter},
 *                      {@code flatMap}, {@code mapAsync}, {@code coMap}, {@code sink}), or {@code null} when unknown
 * @param inputs        the operators whose records it receives, as indexes into the job's list of operators
 *                      ({@link JobProgress#operators()}, in pipeline order)
 * @param sideInputs    the operators whose failed records it receives (their side output), as such indexes
 * @param queued        records waiting in its instances' input queues now (0 for a source, and once the job ended)
 * @param queueCapacity the room of those queues, summed over its instances (0 for a source, or an operator
 *                      that takes its records without a queue)
 */
public record OperatorStats(String name, int parallelism, long recordsIn, long recordsOut, long errors, String kind,
                            List<Integer> inputs, List<Integer> sideInputs, long queued, long queueCapacity) {

  /**
   * Keeps unmodifiable copies of the inputs ({@code null}: none).
   */
  public OperatorStats {
    inputs = inputs == null ? List.of() : List.copyOf(inputs);
    sideInputs = sideInputs == null ? List.of() : List.copyOf(sideInputs);
  }

  /**
   * Counters without the operator's place in the graph or its queues.
   *
   * @param name        the operator's name
   * @param parallelism its number of instances
   * @param recordsIn   records it received
   * @param recordsOut  records it emitted (see {@link #recordsOut()})
   * @param errors      records that failed in it
   */
  public OperatorStats(String name, int parallelism, long recordsIn, long recordsOut, long errors) {
    this(name, parallelism, recordsIn, recordsOut, errors, null, List.of(), List.of(), 0, 0);
  }

  /**
   * {@return the share of its input queues' room that records fill now, from 0 to 1 (0 without a queue)}
   */
  public double queueFill() {
    return queueCapacity <= 0 ? 0 : Math.min(1.0, (double) queued / queueCapacity);
  }

  /**
   * {@return the JSON form, read back by {@link #fromJson(JsonObject)}}
   */
  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("parallelism", parallelism).put("recordsIn", recordsIn)
      .put("recordsOut", recordsOut).put("errors", errors).put("kind", kind).put("inputs", new JsonArray(new ArrayList<>(inputs)))
      .put("sideInputs", new JsonArray(new ArrayList<>(sideInputs))).put("queued", queued)
      .put("queueCapacity", queueCapacity);
  }

  /**
   * {@return the counters}
   *
   * @param json the form written by {@link #toJson()}; fields it lacks are 0, empty or {@code null}
   * @throws IllegalArgumentException when a field has the wrong type
   */
  public static OperatorStats fromJson(JsonObject json) {
    try {
      return new OperatorStats(json.getString("name"), json.getInteger("parallelism", 1), json.getLong("recordsIn", 0L),
        json.getLong("recordsOut", 0L), json.getLong("errors", 0L), json.getString("kind"),
        indexes(json.getJsonArray("inputs")), indexes(json.getJsonArray("sideInputs")), json.getLong("queued", 0L),
        json.getLong("queueCapacity", 0L));
    } catch (ClassCastException e) {
      throw new IllegalArgumentException("Not an operator's counters: " + e.getMessage(), e);
    }
  }

  private static List<Integer> indexes(JsonArray array) {
    List<Integer> list = new ArrayList<>();
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        list.add(array.getInteger(i));
      }
    }
    return list;
  }
}
