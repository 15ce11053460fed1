package io.sagebus;

import org.slf4j.Logger;

/**
 * What an operator instance knows about where it runs: handed to the functions of a pipeline
 * through {@link OperatorFunction}.
 */
public interface TaskContext {

  /**
   * {@return the operator's name, e.g. {@code map#2(Enrich)}}
   */
  String name();

  /**
   * {@return the index of this instance, from 0 to {@code parallelism() - 1}}
   */
  int index();

  /**
   * {@return how many instances the operator has}
   */
  int parallelism();

  /**
   * {@return the id of the job the operator belongs to}
   */
  String jobId();

  /**
   * {@return a logger named after the operator}
   */
  Logger logger();

  /**
   * {@return the environment's service client; sync calls work, as operators run on virtual threads}
   */
  ServiceClient services();

  /**
   * {@return {@code true} once the job is cancelled or failed: a long-running source should stop}
   */
  boolean isCancelled();
}
