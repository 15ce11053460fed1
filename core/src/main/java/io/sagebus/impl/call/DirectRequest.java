package io.sagebus.impl.call;

import io.sagebus.impl.wire.CallRequest;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
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
 * <p>
 * It is also the attempt's entry in the {@link DeadlineTimer} and the task that hands the answer to the caller's
 * context: an attempt costs no object for either.
 */
final class DirectRequest extends DeadlineTimer.Entry implements Message<Object>, Handler<Void>, DirectCalls.Carried,
  Runnable {

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
  /** Hears the outcome, once: the caller's attempt. */
  private final DirectCalls.Attempt outcome;
  /** The caller's context, where it hears the outcome; {@code null} when it has none (it hears it on the answering thread). */
  private final ContextInternal callerContext;
  private final DeadlineTimer deadlines;
  /** The outcome, while a task of the caller's or the answering context hands it on ({@link #handle}). */
  private Object answer;
  /** The context of the task this request is queued as ({@link #run()}): the instance's loop, then the answering one. */
  private ContextInternal hop;
  /** The instance's reader, until the task carrying this request to its loop runs; then {@code null}. */
  private Handler<Message<Object>> receive;
  /** Set by the first answer (the instance's, or the timeout). */
  @SuppressWarnings("unused")
  private volatile boolean answered;

  private DirectRequest(String address, CallRequest body, DeliveryOptions delivery, DirectCalls.Attempt outcome,
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
   * @param outcome hears the attempt's outcome once, as a listener of the bus's reply future would: on the caller's
   *                context when it has one; it may hear it before this returns (a request refused at once)
   * @return whether it was sent; {@code false} when the deadline timer is closed (the environment is)
   */
  static boolean send(Vertx vertx, DirectCalls.Target target, DeadlineTimer deadlines, long deadlineNanos,
                      String address, CallRequest request, DeliveryOptions delivery,
                      DirectCalls.Attempt outcome) {
    DirectRequest r = new DirectRequest(address, request, delivery, outcome, ContextInternal.current(), deadlines);
    if (!deadlines.schedule(vertx, deadlineNanos, (DeadlineTimer.Entry) r)) { // an entry, not a task to run
      return false;
    }
    target.deliver(r);
    return true;
  }

  /** The attempt's deadline came before an answer (the {@link DeadlineTimer} calls it). */
  @Override
  protected void expired() {
    if (ANSWERED.compareAndSet(this, false, true)) {
      complete(new ReplyException(ReplyFailure.TIMEOUT, "Timed out after waiting " + timeoutMillis
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
    deadlines.cancel(this);
    if (callerContext != null) {
      if (callerContext.isRunningOnContext()) {
        // Answered on the caller's own context (a service calling itself from its event loop): heard in a task of its
        // own, as a reply from the bus is, not inside the answering code, so that a chain of such calls completing
        // one another does not grow the stack (3,000 of them would overflow it).
        answer = message;
        callerContext.runOnContext(this);
      } else {
        complete(message); // handed to the caller's context
      }
      return;
    }
    ContextInternal here = ContextInternal.current();
    if (here != null && here.isEventLoopContext() && here.inThread()) {
      answer = message;
      hop = here;
      here.executor().execute(this); // after this task, as a reply would be: the same loop, no wake-up
    } else {
      complete(message);
    }
  }

  @Override
  public void emitOn(ContextInternal loop, Handler<Message<Object>> receive) {
    this.hop = loop;
    this.receive = receive;
    loop.executor().execute(this);
  }

  /**
   * The task this request is queued as, on {@link #hop}'s thread, run as {@code emit} runs a task there (the context
   * current, a failure reported): first the one carrying it to the instance's loop ({@link #emitOn}), then, when the
   * answer came on an event loop, the one handing that answer on after the answering task ({@link #handle}). The
   * second is queued only once the first ran: the instance answers what it has read.
   */
  @Override
  public void run() {
    Handler<Message<Object>> r = receive;
    if (r != null) {
      receive = null;
      hop.emit(this, r);
    } else {
      hop.emit(null, this);
    }
  }

  /**
   * The task that hands the outcome on, on the caller's context or after the task that answered: it runs once, as only
   * the first answer gets here.
   *
   * @param ignored nothing
   */
  @Override
  public void handle(Void ignored) {
    Object message = answer;
    answer = null;
    hear(message);
  }

  /**
   * Gives the outcome (the reply's body, or a {@link ReplyException}) to the caller's attempt, as a listener of a
   * promise of the caller's context hears it: at once when this thread runs that context (or the caller has none),
   * else in a task of that context.
   */
  private void complete(Object message) {
    ContextInternal context = callerContext;
    if (context == null || context.isRunningOnContext()) {
      hear(message);
    } else {
      answer = message;
      context.emit(null, this); // handle() then finds this thread on the caller's context
    }
  }

  private void hear(Object message) {
    if (message instanceof ReplyException failure) {
      outcome.attemptEnded(null, failure);
    } else {
      outcome.attemptAnswered(message);
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

  /**
   * {@return a direct attempt's answer as a reply message (for what reads one: an attempt's span)}
   *
   * @param address the service's address
   * @param body    the answer
   */
  static Message<Object> replyOf(String address, Object body) {
    return new Reply(address, body);
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
