package io.sagebus.management.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;

/** {@code sagebus jobs}: the running and recently finished jobs. */
@Command(name = "jobs", mixinStandardHelpOptions = true, description = "Lists the node's running and recently finished jobs.")
final class JobsCommand extends ApiCommand {

  @Override
  int run(ApiClient client) {
    JsonArray jobs = client.get("/jobs").getJsonArray("jobs", new JsonArray());
    if (jobs.isEmpty()) {
      out().println("No jobs.");
      return 0;
    }
    Table t = new Table("ID", "STATUS", "SOURCE", "TOTAL", "SINKS", "FAILED", "IN-FLIGHT", "ELAPSED");
    for (Object o : jobs) {
      JsonObject j = (JsonObject) o;
      long total = j.getLong("total", -1L);
      t.row(j.getString("id"), j.getString("status"), j.getLong("sourceRecords", 0L), total < 0 ? "?" : total,
        j.getLong("sinkRecords", 0L), j.getLong("failedRecords", 0L), j.getLong("recordsInFlight", 0L),
        millis(j.getLong("elapsedMillis", 0L)));
    }
    t.print(out());
    return 0;
  }
}
