package io.sagebus.impl.call;

/**
 * Where the cancellation signal of an executing call comes from: the signal itself, or a call that makes its signal
 * only when something needs it (a nested call, a method asking whether it was cancelled), so that a call that makes
 * no nested call costs no signal.
 */
public interface CancellationSource {

  /**
   * {@return the signal the calls made inside the executing call follow, made on first use; cancelled at once when
   * the call was cancelled before}
   */
  Cancellation cancellation();
}
