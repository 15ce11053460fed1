package io.sagebus;

/**
 * The sink that {@link DataStream#sink} and {@link DataStream#print()} added: what is said of it
 * here applies to the sink operator itself (its name in results and logs, the services it calls,
 * its retries), never to the operator before it.
 *
 * @param <T> the type of the records it consumes
 */
public interface DataStreamSink<T> {

  /**
   * Names the sink operator (for results, errors and logs).
   *
   * @param name a short name
   * @return this sink
   * @throws IllegalArgumentException when the name is blank
   */
  DataStreamSink<T> name(String name);

  /**
   * Declares the services the sink calls; {@code submit()} fails with
   * {@link ServiceNotFoundException} when one is not registered.
   *
   * @param services service names
   * @return this sink
   */
  DataStreamSink<T> uses(String... services);

  /**
   * Retries the service calls that the sink's function makes without options.
   *
   * @param policy the retry policy
   * @return this sink
   */
  DataStreamSink<T> retry(RetryPolicy policy);

  /**
   * {@return the stream this sink consumes, to add another operator or sink reading the same records}
   */
  DataStream<T> stream();
}
