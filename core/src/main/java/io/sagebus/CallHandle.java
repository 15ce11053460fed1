package io.sagebus;

import io.vertx.core.Future;

/**
 * A call in flight that its caller may cancel, from
 * {@link ServiceClient#callCancellable(String, CallOptions, Object...)}: the call's {@link Future},
 * its request id, and {@link #cancel()}.
 * <pre>{@code
 * CallHandle<String> handle = env.services().callCancellable("summarize", CallOptions.create(), document);
 * handle.future().onComplete(ar -> ...);   // as callAsync's future
 * handle.cancel();                          // the future fails at once with ServiceCancelledException
 * }</pre>
 *
 * @param <T> the result type
 */
public interface CallHandle<T> {

  /**
   * {@return the call's outcome: as from {@code callAsync}, or a {@link ServiceCancelledException} once cancelled}
   */
  Future<T> future();

  /**
   * {@return the request id the call carries (the envelope's {@code id}, kept across retries)}
   */
  String requestId();

  /**
   * Cancels the call, if it has no outcome yet: its {@link #future()} fails at once with
   * {@link ServiceCancelledException} (code {@link FailureCode#CANCELLED}); a call not sent yet (waiting
   * for a rate-limit permit, a retry or an instance) is never sent; a sent one is cancelled at the
   * instance running it, and so are the calls that invocation made. Never blocks; safe from any thread.
   *
   * @return {@code true} if this cancelled the call, {@code false} if it already had an outcome
   */
  boolean cancel();
}
