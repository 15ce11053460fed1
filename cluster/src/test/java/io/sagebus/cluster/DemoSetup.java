package io.sagebus.cluster;

import io.sagebus.ServiceOptions;
import io.sagebus.testing.EchoService;

import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/** A node's setup in NodeManagementIT: the echo service, placed on the node and running, and a pipeline calling it. */
public class DemoSetup implements NodeSetup {

  /** Records of the pipeline {@code doubles}. */
  public static final int RECORDS = 5000;

  /** For the node to create. */
  public DemoSetup() {
  }

  @Override
  public void setup(ClusterEnvironment env) {
    env.registerService("echo", EchoService.class, new ServiceOptions().setInstances(2));
    env.deploy("echo").await(); // running from the start, not only while a job needs it
    AtomicLong sum = new AtomicLong();
    env.registerPipeline("doubles", e -> e.fromBatch(IntStream.rangeClosed(1, RECORDS).boxed().toList())
      .map(x -> 2 * e.services().<Integer>call("echo", x), 4)
      .sink(sum::addAndGet));
  }
}
