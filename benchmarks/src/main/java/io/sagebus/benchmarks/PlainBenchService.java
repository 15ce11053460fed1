package io.sagebus.benchmarks;

/**
 * A service whose only method returns a plain value, as most services ported from SAGE are: its
 * instances read their requests on a virtual thread rather than on an event loop (cases 3p and 4p).
 */
public class PlainBenchService {

  /**
   * Returns a plain value: Sagebus runs it on a virtual thread.
   *
   * @param v the argument
   * @return {@code v}
   */
  public Object process(Object v) {
    return v;
  }
}
