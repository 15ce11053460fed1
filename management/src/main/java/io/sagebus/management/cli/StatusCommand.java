package io.sagebus.management.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** {@code sagebus status}: health, nodes, services and jobs at a glance. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Shows the node's health and how many nodes, services, jobs and pipelines it has.")
final class StatusCommand extends ApiCommand {

  @Override
  int run(ApiClient client) {
    ApiClient.Answer ready = client.send("GET", "/health/ready", null);
    if (ready.status() == 401) {
      client.unauthorized(ready);
    }
    String health = ready.status() == 204 ? "UP (no checks)"
      : ready.body().getString("status", ready.ok() ? "UP" : "DOWN (" + ready.status() + ")");
    JsonArray nodes = client.get("/nodes").getJsonArray("nodes", new JsonArray());
    JsonArray services = client.get("/services").getJsonArray("services", new JsonArray());
    JsonArray jobs = client.get("/jobs").getJsonArray("jobs", new JsonArray());
    JsonArray pipelines = client.get("/pipelines").getJsonArray("pipelines", new JsonArray());

    int runningServices = 0;
    int instances = 0;
    for (Object o : services) {
      int n = ((JsonObject) o).getInteger("instances", 0);
      instances += n;
      runningServices += n > 0 ? 1 : 0;
    }
    Map<String, Integer> byStatus = new TreeMap<>();
    for (Object o : jobs) {
      byStatus.merge(((JsonObject) o).getString("status"), 1, Integer::sum);
    }
    List<String> nodeNames = new ArrayList<>();
    for (Object o : nodes) {
      JsonObject n = (JsonObject) o;
      nodeNames.add(n.getString("id") + (n.getBoolean("self", false) ? " (this node)" : ""));
    }
    Table t = new Table("KEY", "VALUE").withoutHeaders();
    t.row("api", client.url());
    t.row("health", health);
    t.row("nodes", nodes.size() + ": " + String.join(", ", nodeNames));
    t.row("services", services.size() + " registered, " + runningServices + " running (" + instances + " instances)");
    List<String> counts = new ArrayList<>();
    byStatus.forEach((status, n) -> counts.add(n + " " + status.toLowerCase(Locale.ROOT)));
    t.row("jobs", jobs.size() + (counts.isEmpty() ? "" : " (" + String.join(", ", counts) + ")"));
    t.row("pipelines", pipelines.size() + (pipelines.isEmpty() ? "" : ": " + String.join(", ", pipelines.stream()
      .map(String::valueOf).toList())));
    t.print(out());
    return 0;
  }
}
