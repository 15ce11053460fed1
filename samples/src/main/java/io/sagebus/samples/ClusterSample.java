package io.sagebus.samples;

import io.sagebus.JobResult;
import io.sagebus.MapFunction;
import io.sagebus.RetryPolicy;
import io.sagebus.ServiceOptions;
import io.sagebus.cluster.ClusterEnvironment;
import io.sagebus.cluster.ClusterOptions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

/**
 * The clustered sample: this JVM joins the cluster {@code sagebus-demo} on 127.0.0.1, registers the {@code profile} service with two
 * replicas, which are placed on the running nodes whose catalogue lists it
 * ({@code samples/cluster/node-*.json}), and runs a batch of users through a map that calls it.
 * Start the nodes first (README, "Run a cluster"): the sample waits up to 3 minutes for the three
 * of them, saying so every 5 s (as it does while it joins the cluster), and goes on with those that are up by then, if any.
 * <p>
 * Prints the nodes, where the replicas went, and the job's outcome:
 * <pre>
 * joining cluster sagebus-demo on 127.0.0.1...
 * still joining (5 s)...
 * waiting for 3 nodes (1 seen)...
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
  /**
   * How long the sample waits for the three nodes: generous, because a node takes a few seconds to
   * join on an idle machine and took 97 s on a loaded 2-core one; it goes on with those that are up
   * by then, if any.
   */
  static final Duration WAIT_FOR_NODES = Duration.ofMinutes(3);
  /** How often it says what it waits for. */
  static final Duration REPORT_EVERY = Duration.ofSeconds(5);

  private ClusterSample() {
  }

  /**
   * Runs the sample against the nodes of the cluster {@code sagebus-demo}, and leaves the cluster.
   *
   * @param out where the sample prints
   * @throws IllegalStateException when no node is up within 3 minutes
   * @throws io.sagebus.JobFailedException when the job fails
   */
  public static void run(PrintStream out) {
    out.println("joining cluster sagebus-demo on 127.0.0.1...");
    // tag::cluster[]
    // A full member: it may start before the nodes (a lite member needs a node to join).
    ClusterEnvironment env = awaitJoin(out, // prints "still joining (5 s)..." every 5 s while it joins
      ClusterEnvironment.create(new ClusterOptions().setClusterName("sagebus-demo"), "demo"));
    try {
      awaitNodes(env, out); // prints "waiting for 3 nodes (1 seen)..." every 5 s while it waits
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

  /** Waits on this plain thread for the cluster to be joined, saying so every {@link #REPORT_EVERY}. */
  private static ClusterEnvironment awaitJoin(PrintStream out, Future<ClusterEnvironment> joining) {
    CompletableFuture<ClusterEnvironment> joined = joining.toCompletionStage().toCompletableFuture();
    long start = System.nanoTime();
    while (true) {
      try {
        return joined.get(REPORT_EVERY.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        out.printf("still joining (%d s)...%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
      } catch (ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while joining cluster sagebus-demo", e);
      }
    }
  }

  private static void awaitNodes(ClusterEnvironment env, PrintStream out) {
    long start = System.nanoTime();
    long deadline = start + WAIT_FOR_NODES.toNanos();
    long nextReport = start;
    JsonArray nodes = env.nodes().await();
    while (nodes.size() < NODES && System.nanoTime() < deadline) {
      if (System.nanoTime() >= nextReport) {
        // Say what we wait for: nodes take seconds to start, a minute or more on a loaded machine.
        out.printf("waiting for %d nodes (%d seen)...%n", NODES, nodes.size());
        nextReport = System.nanoTime() + REPORT_EVERY.toNanos();
      }
      env.vertx().timer(200, TimeUnit.MILLISECONDS).await();
      nodes = env.nodes().await();
    }
    if (nodes.isEmpty()) {
      throw new IllegalStateException("No Sagebus node of environment 'demo' joined cluster 'sagebus-demo' within "
        + WAIT_FOR_NODES.toSeconds() + " s: start the nodes first (README, \"Run a cluster\"), and see their logs"
        + " (node-1.log, ...)");
    }
  }
}
