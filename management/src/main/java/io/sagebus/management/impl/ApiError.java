package io.sagebus.management.impl;

import io.sagebus.FailureCode;
import io.sagebus.JobFailedException;
import io.sagebus.PipelineNotFoundException;
import io.sagebus.ServiceCallException;
import io.sagebus.ServiceException;
import io.sagebus.ServiceNotFoundException;
import io.sagebus.ServiceTimeoutException;
import io.vertx.core.json.JsonObject;

/**
 * An error the API answers: an HTTP status, a stable code, a message, and what it concerns.
 * {@link #of(Throwable)} holds the table of statuses the README documents.
 *
 * @param status  the HTTP status
 * @param code    a stable upper-case code ({@code SERVICE_NOT_FOUND}, {@code BAD_ARGUMENTS}, ...)
 * @param message a message for people
 * @param details more fields for the JSON body (service, method, remote type), possibly empty
 */
public record ApiError(int status, String code, String message, JsonObject details) {

  /**
   * {@return an error without details}
   *
   * @param status  the HTTP status
   * @param code    its code
   * @param message its message
   */
  public static ApiError of(int status, String code, String message) {
    return new ApiError(status, code, message, new JsonObject());
  }

  /**
   * Maps a failure of the environment to its status: the table in the README.
   *
   * @param failure what failed
   * @return the error to answer
   */
  public static ApiError of(Throwable failure) {
    String message = String.valueOf(failure.getMessage());
    if (failure instanceof ServiceNotFoundException e) {
      return new ApiError(404, "SERVICE_NOT_FOUND", message, new JsonObject().put("service", e.service()));
    }
    if (failure instanceof PipelineNotFoundException e) {
      return new ApiError(404, "PIPELINE_NOT_FOUND", message, new JsonObject().put("pipeline", e.pipeline()));
    }
    if (failure instanceof ServiceTimeoutException e) {
      return new ApiError(504, "TIMEOUT", message, where(e));
    }
    if (failure instanceof ServiceCallException e) {
      JsonObject details = where(e);
      if (e.remoteType() != null) {
        details.put("remoteType", e.remoteType());
      }
      FailureCode code = e.code();
      String name = code == null ? "SERVICE_ERROR" : code.name();
      return new ApiError(statusOf(name, e.retryable()), name, message, details);
    }
    if (failure instanceof ServiceException e) {
      // A kind of service failure this table does not know yet: a retryable one says "try again later".
      return new ApiError(e.retryable() ? 503 : 500, "SERVICE_FAILURE", message, where(e));
    }
    if (failure instanceof JobFailedException) {
      return of(500, "JOB_FAILED", message);
    }
    if (failure instanceof IllegalArgumentException) {
      return of(400, "BAD_REQUEST", message);
    }
    return of(500, "INTERNAL_ERROR", failure.getClass().getSimpleName() + ": " + message);
  }

  /**
   * {@return the HTTP status of a service call failure code}
   *
   * @param code      a {@link FailureCode} name, or another code a newer core may send
   * @param retryable whether the failure says the call may be sent again
   */
  static int statusOf(String code, boolean retryable) {
    return switch (code) {
      case "UNKNOWN_METHOD" -> 404;
      case "BAD_ARGUMENTS", "BAD_REQUEST" -> 400;
      case "SERVICE_ERROR" -> 500;
      case "BAD_RESULT" -> 502;
      case "OVERLOADED", "STOPPING", "CIRCUIT_OPEN" -> 503;
      case "DEADLINE_EXCEEDED", "TIMEOUT" -> 504;
      case "CANCELLED" -> 409;
      default -> retryable ? 503 : 500;
    };
  }

  private static JsonObject where(ServiceException e) {
    JsonObject json = new JsonObject();
    if (e.service() != null) {
      json.put("service", e.service());
    }
    if (e.method() != null) {
      json.put("method", e.method());
    }
    return json;
  }

  /**
   * {@return the JSON body: {@code status}, {@code error} (the code), {@code message}, then the details}
   */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("status", status).put("error", code).put("message", message);
    details.forEach(e -> json.put(e.getKey(), e.getValue()));
    return json;
  }
}
