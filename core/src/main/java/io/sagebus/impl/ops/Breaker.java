package io.sagebus.impl.ops;

import io.sagebus.impl.ResourceTracker;

import io.sagebus.CircuitBreakerPolicy;
import io.sagebus.CircuitOpenException;
import io.sagebus.FailureCode;
import io.sagebus.ServiceCallException;
import io.sagebus.ServiceTimeoutException;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/**
 * The circuit breaker of the callers of one service in one environment of one Vertx: a
 * vertx-circuit-breaker {@link CircuitBreaker} with its own timeout and retries off (the call's
 * deadline and {@link io.sagebus.RetryPolicy} rule), no notifications on the bus (so no periodic
 * timer), and a failure policy that counts only SERVICE_ERROR, OVERLOADED and timeouts.
 * <p>
 * The breaker runs on the event-loop context of a verticle of the environment (the host): the
 * reset timer it sets when it opens belongs to that deployment, so it never dies with a caller's
 * verticle (a job's operator) and is cancelled when the environment closes the host.
 */
public final class Breaker {

  private static final Logger LOG = LoggerFactory.getLogger(Breaker.class);

  private final String service;
  private final CircuitBreakerPolicy policy;
  private final CircuitBreaker breaker;
  private final Future<Context> host;
  private final ResourceTracker tracker;
  private long openKey;
  private volatile boolean closed;

  /**
   * Creates the breaker of a service.
   *
   * @param vertx       the Vertx
   * @param environment the environment name
   * @param service     the service name
   * @param policy      when it opens
   * @param host        the context it runs on (a deployment of the environment)
   * @param tracker     the environment's tracker: an open circuit's pending reset shows there
   */
  public Breaker(Vertx vertx, String environment, String service, CircuitBreakerPolicy policy, Future<Context> host,
                 ResourceTracker tracker) {
    this.service = service;
    this.policy = new CircuitBreakerPolicy(policy);
    this.host = host;
    this.tracker = tracker;
    CircuitBreakerOptions options = new CircuitBreakerOptions()
      .setMaxFailures(policy.getMaxFailures())
      .setResetTimeout(policy.getResetTimeout().toMillis())
      .setFailuresRollingWindow(policy.getFailureWindow().toMillis())
      .setTimeout(-1)              // the call's deadline rules
      .setMaxRetries(0)            // the RetryPolicy rules
      .setNotificationAddress(null) // no bus publishing, no periodic timer
      .setFallbackOnFailure(false);
    this.breaker = CircuitBreaker.create("sagebus." + environment + ".service." + service, vertx, options)
      .failurePolicy(ar -> ar.failed() && unwell(ar.cause()))
      .openHandler(v -> opened())
      .halfOpenHandler(v -> resetDue("half-open: one trial call may go through"))
      .closeHandler(v -> resetDue("closed"));
  }

  /**
   * {@return whether a failure says the service is unwell: SERVICE_ERROR, OVERLOADED or a timeout}
   *
   * @param failure how a call failed
   */
  public static boolean unwell(Throwable failure) {
    return failure instanceof ServiceTimeoutException
      || failure instanceof ServiceCallException e && !(e instanceof CircuitOpenException)
      && (e.code() == FailureCode.SERVICE_ERROR || e.code() == FailureCode.OVERLOADED);
  }

  private synchronized void opened() {
    LOG.warn("Circuit breaker of service '{}' opened: calls fail at once for {} ms", service,
      policy.getResetTimeout().toMillis());
    if (openKey == 0 && !closed) {
      openKey = tracker.opened("timer", "circuit breaker reset of " + service);
    }
  }

  private synchronized void resetDue(String state) {
    LOG.info("Circuit breaker of service '{}' {}", service, state);
    if (openKey != 0) {
      tracker.closed(openKey);
      openKey = 0;
    }
  }

  /**
   * Runs a call through the breaker: at once with {@link CircuitOpenException} when it is open.
   *
   * @param method the called method (for the exception)
   * @param call   sends the call and returns its outcome
   * @param <T>    the result type
   * @return the outcome, completed on the caller's context when it has one
   */
  public <T> Future<T> execute(String method, Supplier<Future<T>> call) {
    if (closed) {
      return call.get();
    }
    ContextInternal caller = ContextInternal.current();
    Promise<T> outcome = caller != null ? caller.promise() : Promise.promise();
    host.onComplete(ar -> {
      if (ar.failed()) {
        // No host (the environment is closing): the call goes through unguarded.
        call.get().onComplete(outcome);
        return;
      }
      ar.result().runOnContext(v -> breaker.<T>execute(call).onComplete(done -> {
        if (done.failed() && done.cause() instanceof OpenCircuitException) {
          outcome.fail(new CircuitOpenException(service, method, "the circuit breaker of service '" + service
            + "' is open after " + policy.getMaxFailures() + " failures that say it is unwell; calls fail at once "
            + "until a trial call succeeds (the first one after " + policy.getResetTimeout().toMillis() + " ms)"));
        } else {
          outcome.handle(done);
        }
      }));
    });
    return outcome.future();
  }

  /**
   * {@return the breaker's state}
   */
  public CircuitBreakerState state() {
    return breaker.state();
  }

  /**
   * Closes the breaker: no notification left; its reset timer dies with the host deployment.
   */
  public synchronized void close() {
    closed = true;
    breaker.close();
    if (openKey != 0) {
      tracker.closed(openKey);
      openKey = 0;
    }
  }
}
