package io.sagebus;

import io.sagebus.impl.call.ServiceClientImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Calls the services of one environment by name, from any code: a main method, a verticle, an
 * HTTP handler, an operator, or another service.
 * <p>
 * {@link #callAsync(String, Object...)} returns a {@link Future} and never blocks.
 * {@link #call(String, Object...)} blocks the calling thread until the answer comes, which is
 * cheap on a virtual thread and fine on a plain thread; on a Vert.x event-loop or worker thread
 * it fails at once with {@link IllegalStateException} before anything is sent (blocking there
 * would stall the event loop, or deadlock the worker).
 * <p>
 * Arguments travel as JSON: strings, numbers, booleans, {@code null}, Vert.x
 * {@code JsonObject}/{@code JsonArray}, and POJOs, records, maps and lists, which Sagebus's own
 * Jackson mapper converts. Without a result type the result is the JSON value as it arrived
 * ({@code String}, {@code Integer}, {@code JsonObject}, ...).
 * <p>
 * Failures are {@link ServiceException}s: {@link ServiceNotFoundException} (at once),
 * {@link ServiceCallException} with a {@link FailureCode}, {@link ServiceOverloadedException},
 * {@link ServiceTimeoutException}.
 * <p>
 * Timeouts, when a call names none: the service's {@link ServiceOptions#getTimeout()}, else the
 * environment's (10 s sync, 30 s async). A call made while a service call is executing (a
 * service calling another) gets at most what is left of that call's budget.
 */
public interface ServiceClient {

  /**
   * A client for the environment {@code environment} running in {@code vertx}, for code that
   * holds only the Vertx. The environment need not exist yet; calls fail with
   * {@link ServiceNotFoundException} while it does not.
   *
   * @param vertx       the Vert.x instance the environment runs on
   * @param environment the environment's name
   * @return a client
   */
  static ServiceClient create(Vertx vertx, String environment) {
    return ServiceClientImpl.forEnvironment(vertx, environment);
  }

  /**
   * {@return the name of the environment whose services this client calls}
   */
  String environment();

  /**
   * Calls {@code process(args...)} on the service, without blocking.
   *
   * @param service the service name
   * @param args    the arguments
   * @param <T>     the result type expected (unchecked)
   * @return the result, or a failed future holding a {@link ServiceException}
   */
  <T> Future<T> callAsync(String service, Object... args);

  /**
   * Calls a method of the service, without blocking.
   *
   * @param service the service name
   * @param options the method, timeout, result type and retry behaviour
   * @param args    the arguments
   * @param <T>     the result type expected
   * @return the result, or a failed future holding a {@link ServiceException}
   */
  <T> Future<T> callAsync(String service, CallOptions options, Object... args);

  /**
   * Calls {@code process(args...)} on the service and waits for the result.
   *
   * @param service the service name
   * @param args    the arguments
   * @param <T>     the result type expected (unchecked)
   * @return the result
   * @throws ServiceException      when the call fails
   * @throws IllegalStateException at once, on a Vert.x event-loop or worker thread
   */
  <T> T call(String service, Object... args);

  /**
   * Calls a method of the service and waits for the result.
   *
   * @param service the service name
   * @param options the method, timeout, result type and retry behaviour
   * @param args    the arguments
   * @param <T>     the result type expected
   * @return the result
   * @throws ServiceException      when the call fails
   * @throws IllegalStateException at once, on a Vert.x event-loop or worker thread
   */
  <T> T call(String service, CallOptions options, Object... args);

  /**
   * An implementation of {@code api} whose methods call the service's methods of the same name.
   * A method returning {@code Future<T>} or {@code CompletionStage<T>} calls asynchronously;
   * any other blocks like {@link #call(String, CallOptions, Object...)}. Results are converted to
   * the declared (generic) return type. Default methods run as written.
   *
   * @param service the service name
   * @param api     an interface
   * @param <P>     the interface type
   * @return the proxy
   * @throws IllegalArgumentException when {@code api} is not an interface
   */
  <P> P proxy(String service, Class<P> api);

  /**
   * Like {@link #proxy(String, Class)}, with timeout and retry settings for every call.
   *
   * @param service the service name
   * @param api     an interface
   * @param options settings for every call; its method and result type are ignored
   * @param <P>     the interface type
   * @return the proxy
   * @throws IllegalArgumentException when {@code api} is not an interface
   */
  <P> P proxy(String service, Class<P> api, CallOptions options);

  /**
   * Calls a service asynchronously, as {@link #callAsync(String, CallOptions, Object...)}, and returns a
   * handle that can cancel the call: {@link CallHandle#cancel()} fails its future at once with
   * {@link ServiceCancelledException} and cancels the call at the instance running it (and the calls
   * that invocation made). Never blocks.
   *
   * @param service the service name
   * @param options the method, timeout, result type and retry behaviour
   * @param args    the arguments
   * @param <T>     the result type
   * @return the call's handle
   */
  <T> CallHandle<T> callCancellable(String service, CallOptions options, Object... args);

  /**
   * Statistics of one service, summed over its instances in this JVM.
   *
   * @param service the service name
   * @return the snapshot, or a failed future with {@link ServiceNotFoundException}
   */
  Future<ServiceStats> stats(String service);
}
