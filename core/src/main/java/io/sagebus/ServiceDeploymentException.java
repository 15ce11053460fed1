package io.sagebus;

/**
 * A service could not be deployed: an instance's constructor, {@code setup} or {@code start}
 * failed, or its consumer could not be registered. The instances that did start were undeployed
 * again.
 */
public class ServiceDeploymentException extends ServiceException {

  private static final long serialVersionUID = 1L;

  private final String remoteType;

  /**
   * Creates the exception.
   *
   * @param service    the service
   * @param remoteType the class name of the failure, or {@code null}
   * @param message    what went wrong
   */
  public ServiceDeploymentException(String service, String remoteType, String message) {
    super(service, null, "Service '" + service + "' could not be deployed: " + message, null);
    this.remoteType = remoteType;
  }

  /**
   * {@return the class name of the failure behind it, or {@code null}}
   */
  public String remoteType() {
    return remoteType;
  }
}
