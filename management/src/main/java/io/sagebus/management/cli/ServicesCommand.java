package io.sagebus.management.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;

/** {@code sagebus services}: the registered services and their statistics. */
@Command(name = "services", mixinStandardHelpOptions = true, description = "Lists the node's services: instances, calls, errors, load and latency.")
final class ServicesCommand extends ApiCommand {

  @Override
  int run(ApiClient client) {
    JsonArray services = client.get("/services").getJsonArray("services", new JsonArray());
    if (services.isEmpty()) {
      out().println("No services.");
      return 0;
    }
    Table t = new Table("NAME", "INSTANCES", "REQUESTS", "SUCCEEDED", "ERRORS", "TIMEOUTS", "IN-FLIGHT", "QUEUED",
      "MEAN", "MAX");
    for (Object o : services) {
      JsonObject s = (JsonObject) o;
      if (s.containsKey("registeredBy")) {
        // Registered by another JVM of the cluster: its statistics live there.
        t.row(s.getString("name"), s.getInteger("instances", 0), "-", "-", "-", "-", "-", "-", "-", "-");
        continue;
      }
      t.row(s.getString("name"), s.getInteger("instances", 0), s.getLong("requests", 0L), s.getLong("succeeded", 0L),
        errorsOf(s), s.getLong("timeouts", 0L), s.getInteger("inFlight", 0), s.getInteger("queued", 0),
        micros(s.getLong("meanExecutionMicros", 0L)), micros(s.getLong("maxExecutionMicros", 0L)));
    }
    t.print(out());
    return 0;
  }
}
