package io.sagebus.management.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;

/** {@code sagebus nodes}: the nodes of the deployment. */
@Command(name = "nodes", mixinStandardHelpOptions = true, description = "Lists the nodes: this JVM for a local environment, every member for a cluster.")
final class NodesCommand extends ApiCommand {

  @Override
  int run(ApiClient client) {
    JsonArray nodes = client.get("/nodes").getJsonArray("nodes", new JsonArray());
    Table t = new Table("ID", "HOST", "SELF", "PID", "JAVA", "UPTIME", "HEAP USED", "HEAP MAX", "JOBS RUNNING");
    for (Object o : nodes) {
      JsonObject n = (JsonObject) o;
      JsonObject d = n.getJsonObject("details", new JsonObject());
      t.row(n.getString("id"), n.getString("host"), n.getBoolean("self", false) ? "yes" : "no", d.getValue("pid"),
        d.getString("java"), d.containsKey("uptimeMillis") ? millis(d.getLong("uptimeMillis")) : null,
        bytes(d.getLong("heapUsedBytes", -1L)), bytes(d.getLong("heapMaxBytes", -1L)), d.getValue("runningJobs"));
    }
    t.print(out());
    return 0;
  }
}
