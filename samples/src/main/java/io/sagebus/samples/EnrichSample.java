package io.sagebus.samples;

import io.sagebus.JobResult;
import io.sagebus.LocalEnvironment;
import io.sagebus.MapFunction;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.util.List;
import java.util.stream.Stream;

/**
 * The main pipeline sample, SAGE's example in Java: a batch of {@code {user_id}} records flows
 * through a map whose function calls the {@code profile} service by name, into a sink that prints
 * each enriched record. Submitting the job deploys the service; the end of the batch stops it.
 * <p>
 * Prints:
 * <pre>
 * {"user_id":"u1","profile":{"user_id":"u1","score":66}}
 * {"user_id":"u2","profile":{"user_id":"u2","score":67}}
 * {"user_id":"u3","profile":{"user_id":"u3","score":68}}
 * {"user_id":"u4","profile":{"user_id":"u4","score":69}}
 * job: COMPLETED, 4 records enriched
 * </pre>
 */
public final class EnrichSample {

  private EnrichSample() {
  }

  /**
   * Runs the sample: builds the pipeline in a new environment, runs it to the end of its batch,
   * and closes the environment.
   *
   * @param out where the enriched records are printed, one JSON object a line, then the job's status
   * @throws io.sagebus.JobFailedException when the job fails
   */
  public static void run(PrintStream out) {
    // tag::enrich[]
    LocalEnvironment env = LocalEnvironment.create("enrich");
    env.registerService("profile", ProfileService.class); // deployed when the job is submitted

    List<JsonObject> users = Stream.of("u1", "u2", "u3", "u4").map(id -> new JsonObject().put("user_id", id)).toList();
    env.fromBatch(users)
      .map(new Enrich()).name("enrich")              // calls the profile service for each record
      .sink(record -> out.println(record.encode())); // one instance each (parallelism 1), so in order

    // Completes once the sink has seen the end of the batch and the job's services have stopped.
    JobResult result = env.submit().await().completion().await();
    out.println("job: " + result.status() + ", " + result.operator("enrich").recordsOut() + " records enriched");
    env.close().await();
    // end::enrich[]
  }

  // tag::enrich-function[]
  /** Adds its profile to a {@code {user_id}} record. */
  static final class Enrich extends MapFunction<JsonObject, JsonObject> {

    @Override
    public JsonObject execute(JsonObject record) {
      // A sync call is fine here: operators run on virtual threads.
      JsonObject profile = callService("profile", record.getString("user_id"));
      return record.copy().put("profile", profile); // records are handed over, not copied: never mutate one
    }
  }
  // end::enrich-function[]
}
