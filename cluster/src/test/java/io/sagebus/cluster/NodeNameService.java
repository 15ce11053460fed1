package io.sagebus.cluster;

import java.util.concurrent.atomic.AtomicInteger;

/** A replica that answers with the name of the node it runs on and counts its calls. */
public class NodeNameService {

  private final String node;
  private final AtomicInteger calls;

  /**
   * @param node  the name to answer with
   * @param calls counts the calls of this replica
   */
  public NodeNameService(String node, AtomicInteger calls) {
    this.node = node;
    this.calls = calls;
  }

  /**
   * {@return the node's name}
   */
  public String process() {
    calls.incrementAndGet();
    return node;
  }
}
