package io.sagebus;

/**
 * A source that emits records until it has no more or the job is cancelled: the start of a
 * streaming pipeline ({@link Environment#fromSource(SourceFunction)}).
 * <p>
 * {@code run} is called once, on the source's virtual thread. Returning ends the stream (the
 * job then completes once the records in flight are through). When the job is cancelled the
 * thread is interrupted and {@link TaskContext#isCancelled()} turns true: a loop should check it.
 *
 * @param <T> the record type
 */
public abstract class SourceFunction<T> extends OperatorFunction {

  /** For subclasses. */
  protected SourceFunction() {
  }

  /**
   * Emits records.
   *
   * @param out where to emit them; {@code collect} blocks while the pipeline is full
   * @throws Exception to fail the job
   */
  public abstract void run(Collector<T> out) throws Exception;

  /**
   * {@return {@code true} once the job is cancelled: stop emitting}
   */
  protected final boolean isCancelled() {
    return context().isCancelled();
  }
}
