package io.sagebus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.List;

/**
 * How a job ended.
 *
 * @param jobId               the job's id
 * @param status              COMPLETED, FAILED or CANCELLED
 * @param duration            from submit to the end of the cleanup
 * @param operators           counters per operator, in pipeline order
 * @param errors              the errors met (skipped records, the failure), at most 100, shortened
 * @param peakRecordsInFlight the most records that were between the sources and the sinks at once
 * @param maxRecordsInFlight  the cap the sources were held to ({@link JobOptions#getMaxRecordsInFlight()})
 */
public record JobResult(String jobId, JobStatus status, Duration duration, List<OperatorStats> operators,
                        List<String> errors, long peakRecordsInFlight, long maxRecordsInFlight) {

  /**
   * Keeps unmodifiable copies of the lists.
   */
  public JobResult {
    operators = List.copyOf(operators);
    errors = List.copyOf(errors);
  }

  /**
   * {@return the counters of the operator of that name, or {@code null}}
   *
   * @param name an operator name, or a prefix of it such as {@code map#2}
   */
  public OperatorStats operator(String name) {
    for (OperatorStats o : operators) {
      if (o.name().equals(name) || o.name().startsWith(name + "(")) {
        return o;
      }
    }
    return null;
  }

  /**
   * {@return the JSON form}
   */
  public JsonObject toJson() {
    JsonArray ops = new JsonArray();
    operators.forEach(o -> ops.add(o.toJson()));
    return new JsonObject().put("jobId", jobId).put("status", status.name()).put("durationMillis", duration.toMillis())
      .put("operators", ops).put("errors", new JsonArray(List.copyOf(errors)))
      .put("peakRecordsInFlight", peakRecordsInFlight).put("maxRecordsInFlight", maxRecordsInFlight);
  }
}
