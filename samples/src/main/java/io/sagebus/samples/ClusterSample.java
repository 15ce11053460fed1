package io.sagebus.samples;

import io.sagebus.JobResult;
import io.sagebus.MapFunction;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceOptions;
import io.sagebus.cluster.ClusterEnvironment;
import io.sagebus.cluster.ClusterOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * The clustered sample: this JVM joins the cluster {@code sagebus-demo} on 127.0.0.1, registers the {@code profile} service with two
 * replicas, which are placed on the running nodes whose catalogue lists it
 * ({@code samples/cluster/node-*.json}), and runs a batch of users through a map that calls it.
 * Start the nodes first (README, "Run a cluster"): the sample waits up to 60 s for the three of
 * them, and goes on with those that are up by then, if any.
 * <p>
 * Prints the nodes, where the replicas went, and the job's outcome:
 * <pre>
 * nodes: [node-1, node-2, node-3]
 * profile replicas: {"node-1":1,"node-2":1}
 * job: COMPLETED, 10000 records enriched, mean score 31.8
 * </pre>
 */
public final class ClusterSample {

  /** Records in the batch. */
  static final int USERS = 10_000;
  /** The nodes of README's "Run a cluster". */
  static final int NODES = 3;
  private static final Duration WAIT_FOR_NODES = Duration.ofSeconds(60);

  private ClusterSample() {
  }

  /**
   * Runs the sample against the nodes of the cluster {@code sagebus-demo}, and leaves the cluster.
   *
   * @param out where the sample prints
   * @throws IllegalStateException when no node is up within 60 s
   * @throws io.sagebus.JobFailedException when the job fails
   */
  public static void run(PrintStream out) {
    // tag::cluster[]
    // A full member: it may start before the nodes (a lite member needs a node to join).
    ClusterEnvironment env = ClusterEnvironment.create(new ClusterOptions().setClusterName("sagebus-demo"), "demo")
      .await();
    try {
      awaitNodes(env);
      out.println("nodes: " + env.nodes().await().stream().map(n -> ((JsonObject) n).getString("node")).toList());

      // Placed on the nodes whose -conf lists "profile" with this class; calls that meet a dying node are retried.
      env.registerService("profile", ProfileService.class, new ServiceOptions()
        .setInstances(2)
        .setRetryable(true)
        .setRetryPolicy(new RetryPolicy().setMaxAttempts(5).setAttemptTimeout(Duration.ofMillis(500))));
      env.deploy("profile").await();
      out.println("profile replicas: " + ((JsonObject) env.placements().await().getValue(0)).getJsonObject("nodes").encode());

      List<String> users = IntStream.rangeClosed(1, USERS).mapToObj(i -> "u" + i).toList();
      double[] scores = new double[1];
      env.fromBatch(users)
        .map(new Score(), 4).name("score")       // four operator instances here, calls go to the nodes
        .sink(score -> scores[0] += score);     // one sink instance: no two threads add at once
      JobResult result = env.submit().await().completion().await();
      out.printf("job: %s, %d records enriched, mean score %.1f%n", result.status(),
        result.operator("score").recordsOut(), scores[0] / USERS);
    } finally {
      env.close().await(); // undeploys the replicas on the nodes, leaves the cluster
    }
    // end::cluster[]
  }

  /** A user's score, from the profile service on some node. */
  static final class Score extends MapFunction<String, Integer> {
    @Override
    public Integer execute(String userId) {
      JsonObject profile = callService("profile", userId);
      return profile.getInteger("score");
    }
  }

  private static void awaitNodes(ClusterEnvironment env) {
    long deadline = System.nanoTime() + WAIT_FOR_NODES.toNanos();
    JsonArray nodes = env.nodes().await();
    while (nodes.size() < NODES && System.nanoTime() < deadline) {
      env.vertx().timer(200, TimeUnit.MILLISECONDS).await();
      nodes = env.nodes().await();
    }
    if (nodes.isEmpty()) {
      throw new IllegalStateException("No Sagebus node of environment 'demo' joined cluster 'sagebus-demo' within "
        + WAIT_FOR_NODES.toSeconds() + " s: start the nodes first (README, \"Run a cluster\")");
    }
  }
}
