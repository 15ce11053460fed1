package io.sagebus.cluster.impl;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * A job as the environment's job map holds it: written by the JVM that runs it when it starts,
 * every second while it runs, and when it ends, so that any member can show it.
 *
 * @param id       the job id
 * @param member   the Hazelcast member id of the JVM that runs it
 * @param started  when it started, in milliseconds since the epoch
 * @param status   its status name ({@link io.sagebus.JobStatus})
 * @param updated  when the record was written, in milliseconds since the epoch
 * @param finished when it ended, or {@code null} while it runs
 * @param progress its progress ({@link io.sagebus.JobProgress#toJson()}; copied on the way in and out)
 * @param result   its result once it completed ({@link io.sagebus.JobResult#toJson()}; copied), or {@code null}
 * @param failure  why it failed, or {@code null}
 */
public record JobRecord(String id, String member, long started, String status, long updated, Long finished,
                        JsonObject progress, JsonObject result, String failure) {

  /**
   * Checks and copies the components.
   *
   * @throws NullPointerException when the id, member, status or progress is null
   */
  public JobRecord {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(member, "member");
    Objects.requireNonNull(status, "status");
    progress = Objects.requireNonNull(progress, "progress").copy();
    result = result == null ? null : result.copy();
  }

  /**
   * {@return a copy of the job's progress}
   */
  @Override
  public JsonObject progress() {
    return progress.copy();
  }

  /**
   * {@return a copy of the job's result, or {@code null} before it completed}
   */
  @Override
  public JsonObject result() {
    return result == null ? null : result.copy();
  }

  /**
   * {@return the JSON form: {@code {"id", "member", "started", "status", "updated", "progress"}}, plus
   * {@code "finished"}, {@code "result"} and {@code "failure"} when they are set}
   */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("id", id).put("member", member).put("started", started)
      .put("status", status).put("updated", updated).put("progress", progress.copy());
    if (finished != null) {
      json.put("finished", finished);
    }
    if (result != null) {
      json.put("result", result.copy());
    }
    if (failure != null) {
      json.put("failure", failure);
    }
    return json;
  }

  /**
   * {@return the record of a JSON form written by {@link #toJson()}}
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when {@code id}, {@code member}, {@code status} or {@code progress} is missing
   * @throws ClassCastException       when a field has the wrong type
   */
  public static JobRecord fromJson(JsonObject json) {
    if (json.getString("id") == null || json.getString("member") == null || json.getString("status") == null
      || json.getJsonObject("progress") == null) {
      throw new IllegalArgumentException("A job record needs \"id\", \"member\", \"status\" and \"progress\": "
        + json.encode());
    }
    return new JobRecord(json.getString("id"), json.getString("member"), json.getLong("started", 0L),
      json.getString("status"), json.getLong("updated", 0L), json.getLong("finished"), json.getJsonObject("progress"),
      json.getJsonObject("result"), json.getString("failure"));
  }
}
