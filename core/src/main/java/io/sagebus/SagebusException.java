package io.sagebus;

/**
 * Base of everything Sagebus throws or fails a future with: service calls and deployments
 * ({@link ServiceException} and its subtypes), jobs ({@link JobFailedException}) and named pipelines
 * ({@link PipelineNotFoundException}). Unchecked, like Vert.x's own failures. Wrong use of the API
 * (a null name, a bad option) is reported with the JDK's {@link IllegalArgumentException} and
 * {@link IllegalStateException}, as Vert.x does.
 */
public abstract class SagebusException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message the detail message
   * @param cause   the cause, or {@code null}
   */
  protected SagebusException(String message, Throwable cause) {
    super(message, cause);
  }
}
