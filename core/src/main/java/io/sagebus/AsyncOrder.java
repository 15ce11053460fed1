package io.sagebus;

/**
 * The output order of {@link DataStream#mapAsync}, as in Flink's Async I/O.
 */
public enum AsyncOrder {
  /** Results leave in the order their records arrived. */
  ORDERED,
  /** Results leave as soon as they complete. */
  UNORDERED
}
