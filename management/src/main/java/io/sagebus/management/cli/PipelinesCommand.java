package io.sagebus.management.cli;

import io.vertx.core.json.JsonArray;
import picocli.CommandLine.Command;

/** {@code sagebus pipelines}: the named pipelines, which {@code sagebus run NAME} starts. */
@Command(name = "pipelines", mixinStandardHelpOptions = true, description = "Lists the pipelines the node registered by "
  + "name, one a line; sagebus run NAME starts one.")
final class PipelinesCommand extends ApiCommand {

  @Override
  int run(ApiClient client) {
    JsonArray pipelines = client.get("/pipelines").getJsonArray("pipelines", new JsonArray());
    if (pipelines.isEmpty()) {
      out().println("No pipelines.");
      return 0;
    }
    for (Object name : pipelines) {
      out().println(name);
    }
    return 0;
  }
}
