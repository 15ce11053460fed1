package io.sagebus;

import java.util.List;

/**
 * {@link Environment#runPipeline(String)} named a pipeline that is not registered.
 */
public class PipelineNotFoundException extends SagebusException {

  private static final long serialVersionUID = 1L;

  private final String pipeline;
  private final List<String> registered;

  /**
   * Creates the exception.
   *
   * @param pipeline    the name asked for
   * @param environment the environment's name
   * @param registered  the pipelines that are registered
   */
  public PipelineNotFoundException(String pipeline, String environment, List<String> registered) {
    super("No pipeline '" + pipeline + "' is registered in environment '" + environment + "'; registered: " + registered,
      null);
    this.pipeline = pipeline;
    this.registered = List.copyOf(registered);
  }

  /**
   * {@return the name asked for}
   */
  public String pipeline() {
    return pipeline;
  }

  /**
   * {@return the pipelines that were registered, sorted}
   */
  public List<String> registered() {
    return registered;
  }
}
