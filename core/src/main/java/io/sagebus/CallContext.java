package io.sagebus;

import io.sagebus.impl.call.CallScope;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.time.Duration;

/**
 * The service call being executed on this thread, as its method sees it: its request id, what is
 * left of its budget, and whether it was cancelled.
 * <p>
 * {@link #current()} works while a service method runs: during the whole of a method returning a
 * plain value (on its virtual thread), and until a method returning {@code Future} or
 * {@code CompletionStage} returns (on the event loop): such a method captures it before it returns
 * and listens to {@link #cancelled()}:
 * <pre>{@code
 * public Future<String> generate(String prompt) {
 *   CallContext call = CallContext.current();
 *   long timer = vertx.setPeriodic(10, id -> nextToken());
 *   call.cancelled().onComplete(v -> vertx.cancelTimer(timer));  // stop the work, fail the future
 *   ...
 * }
 * }</pre>
 * A method returning a plain value is interrupted when cancelled (a blocking JDK call throws
 * {@link InterruptedException}); {@link #isCancelled()} lets a loop that never blocks stop too.
 */
public final class CallContext {

  private final CallScope scope;

  private CallContext(CallScope scope) {
    this.scope = scope;
  }

  /**
   * {@return the call being executed on this thread, or {@code null} outside a service method}
   */
  public static CallContext current() {
    CallScope scope = CallScope.current();
    return scope == null ? null : new CallContext(scope);
  }

  /**
   * {@return the name of the service executing the call}
   */
  public String service() {
    return scope.service();
  }

  /**
   * {@return the call's request id, or {@code null} when a foreign sender gave none}
   */
  public String requestId() {
    return scope.requestId();
  }

  /**
   * {@return what is left of the call's budget (zero once spent)}
   */
  public Duration remaining() {
    return Duration.ofMillis(scope.remainingMillis());
  }

  /**
   * {@return whether the call was cancelled}
   */
  public boolean isCancelled() {
    return scope.cancellation() != null && scope.cancellation().isCancelled();
  }

  /**
   * {@return a future completed once the call is cancelled (at once if it was); it never completes for a call
   * that is not cancelled. Its handlers run on the thread that cancels: the instance's event loop}
   */
  public Future<Void> cancelled() {
    return scope.cancellation() == null ? Promise.<Void>promise().future() : scope.cancellation().future();
  }
}
