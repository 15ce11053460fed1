package io.sagebus.cluster;

import io.sagebus.ServiceContext;

/** Calls the "echo" service with what it is given: a nested call, made inside a node. */
public class RelayService {

  private final ServiceContext context;

  /**
   * @param context the replica's context
   */
  public RelayService(ServiceContext context) {
    this.context = context;
  }

  /**
   * {@return what echo answered, wrapped}
   *
   * @param value anything
   */
  public String process(String value) {
    return "relay(" + context.services().<String>call("echo", value) + ")";
  }
}
