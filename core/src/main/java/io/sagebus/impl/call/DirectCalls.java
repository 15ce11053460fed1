package io.sagebus.impl.call;

import io.sagebus.impl.wire.CallRequest;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.internal.ContextInternal;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The direct path of one service's calls in this JVM: the instances the environment deployed here,
 * which take an attempt straight from the caller's thread instead of over the event bus.
 * <p>
 * On the bus a call crosses three threads: the request to the instance's event loop, the method on
 * a runner virtual thread (a plain-value method), the reply to the caller's context. Here the
 * caller's thread hands the request, as the same {@link CallRequest}, to an instance (round-robin),
 * which reads and admits it exactly as its consumer would (limits, queue, OVERLOADED, deadlines,
 * meters, spans); the method still runs where it runs for a bus request (a runner virtual thread, or
 * the instance's event loop for a Future method), and its answer, the same {@code CallReply} or
 * failure code with JSON, completes the caller's attempt as a reply would, on the caller's context
 * when it has one. The attempt's timeout is a {@link DeadlineTimer} entry, and a cancel is published
 * to the instances as on the bus (the request is admitted before {@code send} returns, so the cancel
 * finds it), so the client's code (retries, deadlines, cancellation, cache, throttle, breaker,
 * tracing) sees nothing else.
 * <p>
 * It applies to the calls that {@link #route} accepts: by default every call made in this JVM (from
 * an operator, a {@code main}, a verticle, a service method); with the system property
 * {@value #PROPERTY}{@code =operators} only those made on a job's operator threads, and with {@code off}
 * none (switches for tests and measurements). Never in a clustered Vertx (there the bus spreads calls
 * over the nodes), and never to a consumer the environment did not deploy (a {@code ServiceTaskVerticle}
 * deployed by hand, a foreign consumer): those calls, and calls to a service with no instance here, go
 * over the bus.
 */
public final class DirectCalls {

  /** The system property choosing which calls take the direct path: {@code all} (default), {@code operators}, {@code off}. */
  public static final String PROPERTY = "sagebus.directCalls";

  /** Which calls take the direct path. */
  enum Mode {
    /** None. */
    OFF,
    /** Calls made on a job's operator threads. */
    OPERATORS,
    /** Every call from this JVM (the default). */
    ALL
  }

  /** An instance that takes requests straight from callers. */
  public interface Target {
    /**
     * Takes a request as its consumer takes one from the bus: reads it, admits it, runs it and
     * answers it through {@link Message#reply(Object)} or {@link Message#fail(int, String)}, exactly once.
     *
     * @param request the request
     */
    void deliver(Message<Object> request);
  }

  /** A request that carries itself to an instance's event loop as the task that reads it there: no task object for it. */
  public interface Carried {
    /**
     * From another thread: reads the request on the loop, as {@code loop.emit(request, receive)} would, in a task
     * of its own with the loop's context current.
     *
     * @param loop    the instance's event-loop context
     * @param receive reads the request
     */
    void emitOn(ContextInternal loop, Handler<Message<Object>> receive);
  }

  /** An attempt of a call, which hears its outcome. */
  interface Attempt {
    /**
     * The attempt's outcome, heard once, as a listener of the bus's reply future hears it.
     *
     * @param reply   the reply, or {@code null} when it failed
     * @param failure why it failed (a {@code ReplyException} as the bus gives it), or {@code null}
     */
    void attemptEnded(Message<Object> reply, Throwable failure);

    /**
     * A direct attempt's answer, heard once in place of {@link #attemptEnded} (no reply message is made for it).
     *
     * @param body the body a reply would carry
     */
    void attemptAnswered(Object body);
  }

  private static final Target[] NONE = new Target[0];

  private final Mode mode;
  private final DeadlineTimer deadlines;
  private volatile Target[] targets = NONE;
  private final AtomicInteger next = new AtomicInteger();

  /**
   * The direct path of one service, in the mode the system property {@value #PROPERTY} says.
   *
   * @param deadlines the environment's deadline timer
   * @throws IllegalArgumentException when the property has another value
   */
  public DirectCalls(DeadlineTimer deadlines) {
    this.deadlines = deadlines;
    String value = System.getProperty(PROPERTY, "all").trim().toUpperCase(Locale.ROOT);
    try {
      this.mode = Mode.valueOf(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("System property " + PROPERTY + " must be all, operators or off, got '"
        + System.getProperty(PROPERTY) + "'", e);
    }
  }

  /**
   * An instance this environment deployed here takes calls directly from now on.
   *
   * @param target the instance
   */
  public synchronized void add(Target target) {
    Target[] t = Arrays.copyOf(targets, targets.length + 1);
    t[t.length - 1] = target;
    targets = t;
  }

  /**
   * An instance stops taking calls directly (it is stopping): calls go to the others, or over the bus.
   *
   * @param target the instance
   */
  public synchronized void remove(Target target) {
    Target[] t = targets;
    for (int i = 0; i < t.length; i++) {
      if (t[i] == target) {
        Target[] less = new Target[t.length - 1];
        System.arraycopy(t, 0, less, 0, i);
        System.arraycopy(t, i + 1, less, i, t.length - i - 1);
        targets = less;
        return;
      }
    }
  }

  /** {@return the instances taking calls directly now} */
  int size() {
    return targets.length;
  }

  /**
   * {@return this path when a call may take it, else {@code null} (it goes over the bus)}
   *
   * @param vertx    the caller's Vertx
   * @param operator whether the call is made on a job's operator thread (outside any service method)
   */
  DirectCalls route(Vertx vertx, boolean operator) {
    if (mode == Mode.OFF || (mode == Mode.OPERATORS && !operator) || vertx.isClustered()) {
      return null;
    }
    return this;
  }

  /**
   * Sends one attempt: straight to an instance in this JVM when one takes calls directly, else over the bus.
   *
   * @param vertx    the Vertx
   * @param address  the service's address
   * @param request  the request
   * @param delivery the attempt's delivery options: its send timeout and its headers (trace context)
   * @param outcome  hears the reply, or its failure as the bus would give it ({@code ReplyException}), once, as a
   *                 listener of the bus's reply future would
   */
  void request(Vertx vertx, String address, CallRequest request, DeliveryOptions delivery, Attempt outcome) {
    Target[] t = targets;
    if (t.length > 0) {
      Target target = t.length == 1 ? t[0] : t[Math.floorMod(next.getAndIncrement(), t.length)];
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delivery.getSendTimeout());
      if (DirectRequest.send(vertx, target, deadlines, deadline, address, request, delivery, outcome)) {
        return;
      }
    }
    vertx.eventBus().request(address, request, delivery).onComplete(outcome::attemptEnded);
  }
}
