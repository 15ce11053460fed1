package io.sagebus.management.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** {@code sagebus cancel JOB_ID}: cancels a running job. */
@Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancels a running job and prints it once it "
  + "stopped; a job that already ended is left as it is.")
final class CancelCommand extends ApiCommand {

  @Parameters(index = "0", paramLabel = "JOB_ID", description = "The job's id (sagebus jobs lists them).")
  String id;

  @Override
  int run(ApiClient client) {
    String path = "/jobs/" + URLEncoder.encode(id, StandardCharsets.UTF_8);
    JsonObject job = client.get(path);
    if (RunCommand.isFinal(job)) {
      out().println("Job " + id + " had already ended: " + RunCommand.summary(job));
      return 0;
    }
    // An empty JSON body: the API takes state-changing requests as JSON only.
    job = client.post(path + "/cancel", new JsonObject());
    out().println(RunCommand.summary(job));
    return 0;
  }
}
