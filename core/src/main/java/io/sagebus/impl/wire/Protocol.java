package io.sagebus.impl.wire;

import io.sagebus.FailureCode;
import io.sagebus.ServiceCallException;
import io.sagebus.ServiceCancelledException;
import io.sagebus.ServiceOverloadedException;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The event-bus protocol between callers, service tasks and the deployment manager (see the
 * design's protocol section). Only JSON crosses the bus.
 */
public final class Protocol {

  /**
   * Key of the request id in the logging MDC, on the caller's side (its retry and timeout lines)
   * and in the service while the call runs. The id itself travels in the request envelope
   * ({@link io.sagebus.impl.wire.CallRequest#ID}).
   */
  public static final String REQUEST_ID = "sagebus-request-id";

  /**
   * How deep a request's arguments may nest (arrays and objects inside each other); a request
   * nested deeper is answered {@link FailureCode#BAD_REQUEST} at once, before any of it is mapped.
   */
  public static final int MAX_NESTING_DEPTH = 256;

  private static final int MAX_STACK_FRAMES = 40;

  private Protocol() {
  }

  /**
   * {@return the service's event-bus address}
   *
   * @param environment an environment name
   * @param service     a service name
   */
  public static String serviceAddress(String environment, String service) {
    return "sagebus." + environment + ".service." + service;
  }

  /**
   * {@return the service's control address: every instance consumes it (clustered) and a caller publishes
   * {@code {"action": "cancel", "id": requestId, "reason": text}} there to cancel a call}
   *
   * @param environment an environment name
   * @param service     a service name
   */
  public static String controlAddress(String environment, String service) {
    return "sagebus." + environment + ".control." + service;
  }

  /** Control message field: the action ({@value #CANCEL} is the only one). */
  public static final String ACTION = "action";
  /** Control action: cancel the call whose request id is {@link #CANCEL_ID}. */
  public static final String CANCEL = "cancel";
  /** Control message field: the request id of the call to cancel. */
  public static final String CANCEL_ID = "id";
  /** Control message field: why (free text, shown to the service). */
  public static final String CANCEL_REASON = "reason";
  /** Control message field: {@code true} when the caller gave up at its deadline (answered DEADLINE_EXCEEDED). */
  public static final String CANCEL_DEADLINE = "deadline";

  /**
   * {@return the control message that cancels the call with this request id}
   *
   * @param requestId the call's request id
   * @param reason    why
   * @param deadline  whether the caller's deadline passed (rather than someone cancelling the call)
   */
  public static JsonObject cancelMessage(String requestId, String reason, boolean deadline) {
    JsonObject json = new JsonObject().put(ACTION, CANCEL).put(CANCEL_ID, requestId).put(CANCEL_REASON, reason);
    return deadline ? json.put(CANCEL_DEADLINE, true) : json;
  }

  /**
   * {@return the deployment manager's event-bus address}
   *
   * @param environment an environment name
   */
  public static String managerAddress(String environment) {
    return "sagebus." + environment + ".manager";
  }

  /**
   * Answers a request with a failure.
   *
   * @param message the request
   * @param code    why
   * @param type    the exception type (or a short label)
   * @param text    a message
   * @param stack   stack frames, possibly empty
   */
  public static void fail(Message<?> message, FailureCode code, String type, String text, JsonArray stack) {
    JsonObject json = new JsonObject().put("type", type).put("message", text).put("stack", stack);
    message.fail(code.code(), json.encode());
  }

  /**
   * {@return its stack frames as text, at most 40, causes appended}
   *
   * @param t a throwable
   */
  public static JsonArray stackOf(Throwable t) {
    JsonArray frames = new JsonArray();
    Throwable cur = t;
    while (cur != null && frames.size() < MAX_STACK_FRAMES) {
      if (cur != t) {
        frames.add("Caused by: " + cur);
      }
      for (StackTraceElement e : cur.getStackTrace()) {
        if (frames.size() >= MAX_STACK_FRAMES) {
          break;
        }
        frames.add(e.toString());
      }
      cur = cur.getCause() == cur ? null : cur.getCause();
    }
    return frames;
  }

  /**
   * Reads a failure sent by {@link #fail}.
   *
   * @param service     the called service
   * @param method      the called method
   * @param code        the decoded failure code
   * @param failureText the failure's message
   * @return the exception the caller sees
   */
  public static ServiceCallException toException(String service, String method, FailureCode code, String failureText) {
    String type = null;
    String text = failureText;
    List<String> stack = new ArrayList<>();
    try {
      JsonObject json = new JsonObject(failureText);
      type = json.getString("type");
      text = json.getString("message");
      JsonArray frames = json.getJsonArray("stack", new JsonArray());
      for (Object f : frames) {
        stack.add(String.valueOf(f));
      }
    } catch (DecodeException | ClassCastException | NullPointerException e) {
      // A failure sent by something other than a Sagebus task: keep its text as the message.
      type = null;
    }
    if (code == FailureCode.OVERLOADED) {
      return new ServiceOverloadedException(service, method, text);
    }
    if (code == FailureCode.CANCELLED) {
      return new ServiceCancelledException(service, method, text);
    }
    return new ServiceCallException(service, method, code, type, text, stack);
  }
}
