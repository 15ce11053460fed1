package io.sagebus.cluster.impl;

/**
 * A node agent may not start: another live JVM of the cluster runs a node of the same id. Carries
 * no stack trace: the message (which names the live node) is all there is to say.
 */
public final class NodeIdInUseException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  /**
   * An exception for a node id taken by a live node.
   *
   * @param message names the node id and the live node holding it
   */
  public NodeIdInUseException(String message) {
    super(message);
  }

  /**
   * {@return this, without a stack trace}
   */
  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
