package io.sagebus;

import java.util.List;

/**
 * No service of that name is registered in the environment. Reported at once, never after a
 * timeout, and never retried.
 */
public class ServiceNotFoundException extends ServiceException {

  private static final long serialVersionUID = 1L;

  private final List<String> registered;

  /**
   * Creates the exception.
   *
   * @param service     the name that was called
   * @param environment the environment it was looked up in
   * @param registered  the names that are registered there
   */
  public ServiceNotFoundException(String service, String environment, List<String> registered) {
    super(service, null, "No service '" + service + "' is registered in environment '" + environment
      + "'; registered: " + registered + ". Register it with env.registerService(\"" + service + "\", ...)", null);
    this.registered = List.copyOf(registered);
  }

  /**
   * {@return the names of the services that are registered, sorted}
   */
  public List<String> registered() {
    return registered;
  }
}
