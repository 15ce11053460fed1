package io.sagebus.management.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** {@code sagebus run NAME}: starts a named pipeline and follows it to its end. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Starts a pipeline the node registered under NAME and shows its progress "
  + "(records done, rate, ETA when the total is known) until it ends. Exits 0 when it completed, 1 otherwise.")
final class RunCommand extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "The pipeline's name (GET /pipelines lists them).")
  String name;

  @Option(names = "--interval-ms", defaultValue = "500", paramLabel = "MS",
    description = "How often to ask for progress, in milliseconds (default: ${DEFAULT-VALUE}).")
  long intervalMs;

  @Option(names = "--detach", description = "Start the job and return at once, printing its id.")
  boolean detach;

  @Override
  int run(ApiClient client) {
    JsonObject job = client.post("/pipelines/" + URLEncoder.encode(name, StandardCharsets.UTF_8) + "/run",
      new JsonObject());
    String id = job.getString("id");
    PrintWriter out = out();
    out.println("Started pipeline '" + name + "' as job " + id);
    out.flush();
    if (detach) {
      return 0;
    }
    // One line per change, not a redrawn line: readable in a terminal, a pipe and a log alike.
    String last = null;
    while (true) {
      if (!isFinal(job)) {
        String line = progressLine(job);
        if (!line.equals(last)) {
          out.println(line);
          out.flush();
          last = line;
        }
        pause();
        job = client.get("/jobs/" + id);
        continue;
      }
      out.println(summary(job));
      if (job.getString("failure") != null) {
        out.println("  failure: " + job.getString("failure"));
      }
      out.flush();
      return "COMPLETED".equals(job.getString("status")) ? 0 : SagebusCli.EXIT_FAILED;
    }
  }

  private void pause() {
    try {
      Thread.sleep(Math.max(10, intervalMs));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiClient.UnreachableException("Interrupted while following the job", e);
    }
  }

  static boolean isFinal(JsonObject job) {
    String status = job.getString("status");
    boolean ended = "COMPLETED".equals(status) || "FAILED".equals(status) || "CANCELLED".equals(status);
    return ended && job.getString("endedAt") != null;
  }

  /** e.g. {@code RUNNING  450/1000 records (45%)  120.5/s  ETA 4.6 s  sinks 450  failed 0}. */
  static String progressLine(JsonObject job) {
    long done = job.getLong("sourceRecords", 0L);
    long total = job.getLong("total", -1L);
    long elapsed = job.getLong("elapsedMillis", 0L);
    double rate = elapsed > 0 ? done * 1000.0 / elapsed : 0;
    StringBuilder sb = new StringBuilder(job.getString("status", "?")).append("  ");
    if (total >= 0) {
      long pct = total == 0 ? 100 : Math.min(100, done * 100 / total);
      sb.append(done).append('/').append(total).append(" records (").append(pct).append("%)");
    } else {
      sb.append(done).append(" records");
    }
    sb.append("  ").append(String.format(Locale.ROOT, "%.1f/s", rate));
    if (total >= 0) {
      sb.append("  ETA ").append(rate > 0 ? millis((long) ((total - Math.min(done, total)) * 1000 / rate)) : "?");
    }
    sb.append("  sinks ").append(job.getLong("sinkRecords", 0L))
      .append("  failed ").append(job.getLong("failedRecords", 0L));
    return sb.toString();
  }

  static String summary(JsonObject job) {
    long done = job.getLong("sourceRecords", 0L);
    long elapsed = job.getLong("elapsedMillis", 0L);
    double rate = elapsed > 0 ? done * 1000.0 / elapsed : 0;
    return "Job " + job.getString("id") + " " + job.getString("status") + ": " + done + " records in "
      + millis(elapsed) + String.format(Locale.ROOT, " (%.1f/s), ", rate) + job.getLong("sinkRecords", 0L)
      + " reached the sinks, " + job.getLong("failedRecords", 0L) + " failed";
  }
}
