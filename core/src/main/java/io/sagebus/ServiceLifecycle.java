package io.sagebus;

/**
 * Optional lifecycle hooks of a service. A service class implements this interface to be told
 * when it is set up, started, stopped and cleaned up; every method has an empty default.
 * <p>
 * The hooks of one instance run in order on a virtual thread and may block: {@code setup} and
 * {@code start} before the instance takes its first call, {@code stop} after its last call
 * has finished (or the drain timeout passed), then {@code cleanup}. An exception thrown by
 * {@code setup} or {@code start} fails the deployment; one thrown by {@code stop} or
 * {@code cleanup} is logged and the next hook still runs. These methods cannot be called
 * remotely.
 */
public interface ServiceLifecycle {

  /**
   * Called once, before {@link #start()}, with the instance's context.
   *
   * @param context the name, configuration, logger and client of this instance
   * @throws Exception to fail the deployment
   */
  default void setup(ServiceContext context) throws Exception {
  }

  /**
   * Called once after {@link #setup(ServiceContext)}, before the first call.
   *
   * @throws Exception to fail the deployment
   */
  default void start() throws Exception {
  }

  /**
   * Called once when the instance is undeployed, after its calls have drained.
   *
   * @throws Exception logged; {@link #cleanup()} still runs
   */
  default void stop() throws Exception {
  }

  /**
   * Called once, last, to release what {@link #setup(ServiceContext)} acquired.
   *
   * @throws Exception logged
   */
  default void cleanup() throws Exception {
  }
}
