package io.sagebus;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares a service method batched: callers call it per item, the instance gathers concurrent
 * calls into one invocation (see {@link BatchPolicy}). The method must take exactly one
 * {@code List} and return a {@code List} of the same length, in the same order, or a
 * {@code Future}/{@code CompletionStage} of one; registration fails otherwise. An element that
 * is a {@link Throwable} fails only its own call; the method throwing fails every call of the
 * batch. {@link ServiceOptions#setBatching(String, BatchPolicy)} overrides it.
 * <pre>{@code
 * @Batched(maxSize = 32, maxWaitMs = 5)
 * public List<float[]> embed(List<String> texts) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Batched {

  /**
   * {@return the most items per invocation, see {@link BatchPolicy#setMaxSize(int)}}
   */
  int maxSize() default BatchPolicy.DEFAULT_MAX_SIZE;

  /**
   * {@return the longest wait of a batch's first item, in milliseconds, see {@link BatchPolicy#setMaxWait}}
   */
  long maxWaitMs() default 5;

  /**
   * {@return the batches running at once per instance, see {@link BatchPolicy#setMaxConcurrentBatches(int)}}
   */
  int maxConcurrentBatches() default BatchPolicy.DEFAULT_MAX_CONCURRENT_BATCHES;

  /**
   * {@return whether a batch that is not full may go before its max wait, see {@link BatchPolicy#setAdaptiveWait}}
   */
  boolean adaptiveWait() default true;
}
