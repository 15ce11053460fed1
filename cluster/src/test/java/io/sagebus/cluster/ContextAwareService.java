package io.sagebus.cluster;

import io.sagebus.ServiceContext;

/** A service made through its ServiceContext constructor: answers with what its context says. */
public class ContextAwareService {

  private final ServiceContext context;

  /**
   * @param context the replica's context
   */
  public ContextAwareService(ServiceContext context) {
    this.context = context;
  }

  /**
   * {@return name, environment, address and the "greeting" of the configuration}
   */
  public String process() {
    return context.name() + "|" + context.environment() + "|" + context.address() + "|"
      + context.config().getString("greeting");
  }
}
