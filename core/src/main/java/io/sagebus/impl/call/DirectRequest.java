package io.sagebus.impl.call;

import io.sagebus.impl.wire.CallRequest;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One attempt of a call on the {@link DirectCalls direct path}: the request an instance reads, as
 * the message its consumer would get from the bus, and the attempt's outcome. Its first answer
 * wins: the instance's reply, its failure (a {@link ReplyException} with the failure code and JSON,
 * as {@code message.fail} sends it), or the attempt's timeout (a {@link ReplyFailure#TIMEOUT}, as the
 * bus's reply timer gives it); later ones are dropped, as the bus drops a reply nobody waits for.
 * The outcome is heard on the caller's context when it has one (in a task of its own when the answer
 * comes on that context, as a reply would be); else on the answering thread, after
 * the task that answered when that is an event loop's (a {@code Future} method's, a batch's), as a
 * reply would be: the instance has then done with the call (its slot, its counts) before the caller
 * hears of it.
 */
final class DirectRequest implements Message<Object> {

  private static final VarHandle ANSWERED;

  static {
    try {
      ANSWERED = MethodHandles.lookup().findVarHandle(DirectRequest.class, "answered", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String address;
  private final CallRequest body;
  private final MultiMap headers;
  private final long timeoutMillis;
  private final Promise<Message<Object>> outcome;
  /** The caller's context, where it hears the outcome; {@code null} when it has none (it hears it on the answering thread). */
  private final ContextInternal callerContext;
  private final DeadlineTimer deadlines;
  private DeadlineTimer.Entry deadline;
  /** Set by the first answer (the instance's, or the timeout). */
  @SuppressWarnings("unused")
  private volatile boolean answered;

  private DirectRequest(String address, CallRequest body, DeliveryOptions delivery, Promise<Message<Object>> outcome,
                        ContextInternal callerContext, DeadlineTimer deadlines) {
    this.address = address;
    this.body = body;
    this.headers = delivery.getHeaders();
    this.timeoutMillis = delivery.getSendTimeout();
    this.outcome = outcome;
    this.callerContext = callerContext;
    this.deadlines = deadlines;
  }

  /**
   * Hands an attempt to an instance.
   *
   * @return its outcome; {@code null} when the deadline timer is closed (the environment is), and the attempt was not sent
   */
  static Future<Message<Object>> send(Vertx vertx, DirectCalls.Target target, DeadlineTimer deadlines, long deadlineNanos,
                                      String address, CallRequest request, DeliveryOptions delivery) {
    ContextInternal caller = ContextInternal.current();
    Promise<Message<Object>> outcome = caller != null ? caller.promise() : Promise.promise();
    DirectRequest r = new DirectRequest(address, request, delivery, outcome, caller, deadlines);
    DeadlineTimer.Entry entry = deadlines.schedule(vertx, deadlineNanos, r::timedOut);
    if (entry == null) {
      return null;
    }
    r.deadline = entry;
    target.deliver(r);
    return outcome.future();
  }

  private void timedOut() {
    if (ANSWERED.compareAndSet(this, false, true)) {
      outcome.fail(new ReplyException(ReplyFailure.TIMEOUT, "Timed out after waiting " + timeoutMillis
        + "(ms) for a reply. address: " + address + " (direct)"));
    }
  }

  @Override
  public String address() {
    return address;
  }

  @Override
  public MultiMap headers() {
    return headers != null ? headers : MultiMap.caseInsensitiveMultiMap();
  }

  @Override
  public Object body() {
    return body;
  }

  @Override
  public String replyAddress() {
    return null;
  }

  @Override
  public boolean isSend() {
    return true;
  }

  @Override
  public void reply(Object message) {
    if (!ANSWERED.compareAndSet(this, false, true)) {
      return;
    }
    deadlines.cancel(deadline);
    if (callerContext != null) {
      if (callerContext.isRunningOnContext()) {
        // Answered on the caller's own context (a service calling itself from its event loop): heard in a task of its
        // own, as a reply from the bus is, not inside the answering code, so that a chain of such calls completing
        // one another does not grow the stack (3,000 of them would overflow it).
        callerContext.runOnContext(v -> complete(message));
      } else {
        complete(message); // the caller's promise hands it to the caller's context
      }
      return;
    }
    ContextInternal here = ContextInternal.current();
    if (here != null && here.isEventLoopContext() && here.inThread()) {
      here.runOnContext(v -> complete(message)); // after this task, as a reply would be: the same loop, no wake-up
    } else {
      complete(message);
    }
  }

  private void complete(Object message) {
    if (message instanceof ReplyException failure) {
      outcome.fail(failure);
    } else {
      outcome.complete(new Reply(address, message));
    }
  }

  @Override
  public void reply(Object message, DeliveryOptions options) {
    reply(message);
  }

  @Override
  public <R> Future<Message<R>> replyAndRequest(Object message, DeliveryOptions options) {
    reply(message);
    return Future.failedFuture(new UnsupportedOperationException("A direct call's reply takes no reply"));
  }

  /** The instance's answer, as the caller reads a reply. */
  private record Reply(String address, Object body) implements Message<Object> {

    @Override
    public MultiMap headers() {
      return MultiMap.caseInsensitiveMultiMap();
    }

    @Override
    public String replyAddress() {
      return null;
    }

    @Override
    public boolean isSend() {
      return true;
    }

    @Override
    public void reply(Object message, DeliveryOptions options) {
      // Nobody waits for an answer to an answer.
    }

    @Override
    public <R> Future<Message<R>> replyAndRequest(Object message, DeliveryOptions options) {
      return Future.failedFuture(new UnsupportedOperationException("A direct call's reply takes no reply"));
    }
  }
}
