package io.sagebus.samples;

import io.sagebus.cluster.ClusterEnvironment;
import io.sagebus.cluster.NodeSetup;

import java.util.stream.IntStream;

/**
 * node-1's setup ({@code samples/cluster/node-1.json}, {@code "setup"}): registers the pipeline
 * {@code greetings}, so that {@code sagebus run greetings --url http://127.0.0.1:8091} can be tried
 * on the cluster of README's "Run a cluster". It greets {@value #USERS} users through the
 * {@code greeter} service, which the job places on a node whose catalogue lists it, and stops when
 * the job ends.
 */
public class ClusterSetup implements NodeSetup {

  /** Users the pipeline greets. */
  public static final int USERS = 1000;

  /** For the node to create, from its configuration. */
  public ClusterSetup() {
  }

  @Override
  public void setup(ClusterEnvironment env) {
    env.registerService(GreeterService.class); // "greeter", placed when a job needs it
    env.registerPipeline("greetings", e -> e.fromBatch(IntStream.rangeClosed(1, USERS).mapToObj(i -> "u" + i).toList())
      .map(user -> e.services().<String>call("greeter", user), 4)
      .sink(greeting -> { }));
  }
}
