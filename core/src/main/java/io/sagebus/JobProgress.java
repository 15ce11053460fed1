package io.sagebus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A snapshot of a job's progress ({@link Job#progress()}): what its sources emitted, what reached
 * its sinks, what failed, and the counters of each operator. Counters are read one after the
 * other while the job runs, so they may be a few records apart; once the job has ended they are
 * final.
 *
 * @param jobId           the job's id
 * @param status          the job's state when the snapshot was taken
 * @param submittedAt     when the job was submitted
 * @param endedAt         when the job ended (COMPLETED, FAILED or CANCELLED), or {@code null} while it has not
 * @param sourceRecords   records emitted by the job's sources
 * @param sinkRecords     records that reached its sinks
 * @param failedRecords   records that failed in an operator (skipped, sent to a side output, or the one that failed the job)
 * @param total           how many records the sources will emit in all, when known (a {@code fromBatch} over a
 *                        {@link java.util.Collection} knows its size), else {@code -1}
 * @param recordsInFlight records between the sources and the sinks now
 * @param operators       counters per operator, in pipeline order (their {@link OperatorStats#inputs()} index this list)
 * @param failure         why the job failed, or {@code null}
 */
public record JobProgress(String jobId, JobStatus status, Instant submittedAt, Instant endedAt, long sourceRecords,
                          long sinkRecords, long failedRecords, long total, long recordsInFlight,
                          List<OperatorStats> operators, String failure) {

  /**
   * Keeps an unmodifiable copy of the operators.
   */
  public JobProgress {
    operators = List.copyOf(operators);
  }

  /**
   * {@return the time from submission to the end, or to {@code now} while the job runs}
   *
   * @param now the current time
   */
  public Duration elapsed(Instant now) {
    Instant end = endedAt != null ? endedAt : now;
    Duration d = Duration.between(submittedAt, end);
    return d.isNegative() ? Duration.ZERO : d;
  }

  /**
   * {@return the share of the sources' records emitted so far, from 0 to 1, or {@code -1} when the total is unknown}
   */
  public double fraction() {
    if (total < 0) {
      return -1;
    }
    if (total == 0) {
      return 1;
    }
    return Math.min(1.0, (double) sourceRecords / total);
  }

  /**
   * {@return the JSON form, read back by {@link #fromJson(JsonObject)}; times are ISO-8601 text}
   */
  public JsonObject toJson() {
    JsonArray ops = new JsonArray();
    operators.forEach(o -> ops.add(o.toJson()));
    JsonObject json = new JsonObject()
      .put("id", jobId)
      .put("status", status.name())
      .put("submittedAt", submittedAt.toString())
      .put("endedAt", endedAt == null ? null : endedAt.toString())
      .put("elapsedMillis", elapsed(Instant.now()).toMillis())
      .put("sourceRecords", sourceRecords)
      .put("sinkRecords", sinkRecords)
      .put("failedRecords", failedRecords)
      .put("total", total)
      .put("recordsInFlight", recordsInFlight)
      .put("operators", ops);
    if (failure != null) {
      json.put("failure", failure);
    }
    return json;
  }

  /**
   * {@return the progress}
   *
   * @param json the form written by {@link #toJson()}
   * @throws IllegalArgumentException when a required field is missing or malformed
   */
  public static JobProgress fromJson(JsonObject json) {
    try {
      List<OperatorStats> ops = new ArrayList<>();
      for (Object o : json.getJsonArray("operators", new JsonArray())) {
        ops.add(OperatorStats.fromJson((JsonObject) o));
      }
      String ended = json.getString("endedAt");
      return new JobProgress(json.getString("id"), JobStatus.valueOf(json.getString("status")),
        Instant.parse(json.getString("submittedAt")), ended == null ? null : Instant.parse(ended),
        json.getLong("sourceRecords", 0L), json.getLong("sinkRecords", 0L), json.getLong("failedRecords", 0L),
        json.getLong("total", -1L), json.getLong("recordsInFlight", 0L), ops, json.getString("failure"));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Not a job progress: " + e.getMessage(), e);
    }
  }
}
