package io.sagebus;

import io.sagebus.impl.job.OperatorTask;
import io.vertx.core.Future;
import org.slf4j.Logger;

/**
 * Base of the function classes of a pipeline ({@link MapFunction}, {@link FilterFunction},
 * {@link FlatMapFunction}, {@link SinkFunction}, {@link SourceFunction}, {@link BatchFunction},
 * {@link AsyncFunction}, {@link CoMapFunction}): lifecycle hooks, the operator's context, and
 * service calls by name, as SAGE's functions have.
 * <p>
 * One function object serves every parallel instance of its operator: {@link #open()} and
 * {@link #close()} run once per instance, and {@link #context()} answers for the instance whose
 * thread calls it. A function with state of its own must therefore be thread-safe when its
 * operator's parallelism is above 1. Functions run on the operator's virtual thread, so
 * {@link #callService(String, Object...)} may block.
 */
public abstract class OperatorFunction {

  /** For subclasses. */
  protected OperatorFunction() {
  }

  /**
   * Called once per instance before the first record, on the operator's virtual thread.
   *
   * @throws Exception to fail the job
   */
  public void open() throws Exception {
  }

  /**
   * Called once per instance after the last record (or when the job is cancelled or fails).
   *
   * @throws Exception logged
   */
  public void close() throws Exception {
  }

  /**
   * {@return the context of the operator instance running this function}
   *
   * @throws IllegalStateException before the function is bound to an operator
   */
  protected final TaskContext context() {
    TaskContext context = OperatorTask.current();
    if (context == null) {
      throw new IllegalStateException(getClass().getName() + " is not running in a Sagebus pipeline operator "
        + "(the context is only there on the operator's own thread, inside open, execute and close)");
    }
    return context;
  }

  /**
   * {@return the operator's name}
   */
  protected final String name() {
    return context().name();
  }

  /**
   * {@return the index of this instance}
   */
  protected final int index() {
    return context().index();
  }

  /**
   * {@return the operator's logger}
   */
  protected final Logger logger() {
    return context().logger();
  }

  /**
   * Calls {@code process(args...)} of a service and waits: fine here, on the operator's virtual thread.
   *
   * @param service the service name
   * @param args    the arguments
   * @param <T>     the result type expected
   * @return the result
   * @throws ServiceException when the call fails
   */
  protected final <T> T callService(String service, Object... args) {
    return context().services().call(service, OperatorTask.callDefaults(), args);
  }

  /**
   * Calls a method of a service and waits.
   *
   * @param service the service name
   * @param options method, timeout, result type, retry
   * @param args    the arguments
   * @param <T>     the result type expected
   * @return the result
   * @throws ServiceException when the call fails
   */
  protected final <T> T callService(String service, CallOptions options, Object... args) {
    return context().services().call(service, options, args);
  }

  /**
   * Calls {@code process(args...)} of a service without waiting.
   *
   * @param service the service name
   * @param args    the arguments
   * @param <T>     the result type expected
   * @return the result, or a failed future holding a {@link ServiceException}
   */
  protected final <T> Future<T> callServiceAsync(String service, Object... args) {
    return context().services().callAsync(service, OperatorTask.callDefaults(), args);
  }

  /**
   * Calls a method of a service without waiting.
   *
   * @param service the service name
   * @param options method, timeout, result type, retry
   * @param args    the arguments
   * @param <T>     the result type expected
   * @return the result, or a failed future holding a {@link ServiceException}
   */
  protected final <T> Future<T> callServiceAsync(String service, CallOptions options, Object... args) {
    return context().services().callAsync(service, options, args);
  }
}
