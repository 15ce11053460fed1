package io.sagebus.management.impl;

import io.sagebus.JobProgress;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * {@code GET /jobs/{id}/graph}: a job's operators as the nodes of a graph, with their counters, the
 * fill of their input queues and their mean rate, the edges between them, and the operator where
 * backpressure sits. Built from the JSON form of a {@link JobProgress} ({@link JobProgress#toJson()}),
 * so a job of another JVM of a cluster, known by its published progress, has a graph too.
 */
final class JobGraph {

  private JobGraph() {
  }

  /**
   * {@return the graph of a job}
   *
   * @param progress the job's progress in the JSON form of {@link JobProgress#toJson()}, possibly with
   *                 {@code member} and {@code updated} (a job of another JVM)
   */
  static JsonObject of(JsonObject progress) {
    JsonArray ops = progress.getJsonArray("operators", new JsonArray());
    long elapsed = progress.getLong("elapsedMillis", 0L);
    boolean running = "RUNNING".equals(progress.getString("status"));
    JsonArray operators = new JsonArray();
    JsonArray edges = new JsonArray();
    Integer bottleneck = null;
    long mostQueued = 0;
    for (int i = 0; i < ops.size(); i++) {
      JsonObject op = ops.getJsonObject(i);
      long queued = op.getLong("queued", 0L);
      long capacity = op.getLong("queueCapacity", 0L);
      long out = op.getLong("recordsOut", 0L);
      operators.add(new JsonObject()
        .put("index", i)
        .put("name", op.getString("name"))
        .put("kind", op.getString("kind"))
        .put("parallelism", op.getInteger("parallelism", 1))
        .put("recordsIn", op.getLong("recordsIn", 0L))
        .put("recordsOut", out)
        .put("errors", op.getLong("errors", 0L))
        .put("ratePerSecond", elapsed <= 0 ? 0.0 : Math.round(out * 10_000.0 / elapsed) / 10.0)
        .put("queued", queued)
        .put("queueCapacity", capacity)
        .put("queueFill", capacity <= 0 ? 0.0 : Math.min(1.0, Math.round(queued * 1000.0 / capacity) / 1000.0)));
      addEdges(edges, op.getJsonArray("inputs"), i, false);
      addEdges(edges, op.getJsonArray("sideInputs"), i, true);
      // Downstream operators come later in pipeline order: on a tie, the later one is where the records wait.
      if (running && queued > 0 && queued >= mostQueued) {
        mostQueued = queued;
        bottleneck = i;
      }
    }
    JsonObject graph = new JsonObject();
    for (String field : new String[] {"id", "status", "member", "updated", "elapsedMillis", "sourceRecords",
      "sinkRecords", "failedRecords", "total", "recordsInFlight", "failure"}) {
      if (progress.containsKey(field)) {
        graph.put(field, progress.getValue(field));
      }
    }
    return graph.put("operators", operators).put("edges", edges).put("bottleneck", bottleneck);
  }

  private static void addEdges(JsonArray edges, JsonArray inputs, int to, boolean side) {
    if (inputs == null) {
      return;
    }
    for (int k = 0; k < inputs.size(); k++) {
      edges.add(new JsonObject().put("from", inputs.getInteger(k)).put("to", to).put("side", side));
    }
  }
}
