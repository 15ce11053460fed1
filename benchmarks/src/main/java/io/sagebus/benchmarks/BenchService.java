package io.sagebus.benchmarks;

import io.vertx.core.Future;

/**
 * The service the benchmark calls: one method per way a Sagebus method can answer, each doing no work.
 */
public class BenchService {

  /**
   * Returns a Vert.x Future: Sagebus runs it on the service task's event loop.
   *
   * @param v the argument
   * @return {@code v}, already completed
   */
  public Future<Object> echo(Object v) {
    return Future.succeededFuture(v);
  }

  /**
   * Returns a plain value: Sagebus runs it on a virtual thread.
   *
   * @param v the argument
   * @return {@code v}
   */
  public Object process(Object v) {
    return v;
  }

  /**
   * Returns a plain value and is declared {@link io.sagebus.NonBlocking}: Sagebus runs it on the event loop.
   *
   * @param v the argument
   * @return {@code v}
   */
  @io.sagebus.NonBlocking
  public Object fast(Object v) {
    return v;
  }

  /**
   * Takes a while, as a call that does work would: sleeps on its virtual thread (AutoscaleBenchmark).
   *
   * @param millis how long to take
   * @return {@code millis}
   * @throws InterruptedException when interrupted
   */
  public long sleep(long millis) throws InterruptedException {
    Thread.sleep(millis);
    return millis;
  }

  /**
   * @return the name of the thread the service task's event-loop methods run on (to place the benchmark driver)
   */
  public Future<String> where() {
    return Future.succeededFuture(Thread.currentThread().getName());
  }
}
