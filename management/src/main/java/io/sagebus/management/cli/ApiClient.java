package io.sagebus.management.cli;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A blocking JSON client of a node's management API, for the CLI (which runs on a plain thread).
 */
final class ApiClient implements AutoCloseable {

  private final HttpClient http;
  private final String base;
  private final String token;
  private final Duration timeout;

  ApiClient(String url, String token, Duration timeout) {
    this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    this.token = token == null || token.isBlank() ? null : token.trim();
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  String url() {
    return base;
  }

  /** An answer: its status and JSON body ({@code {}} when it had none). */
  record Answer(int status, JsonObject body) {
    boolean ok() {
      return status >= 200 && status < 300;
    }
  }

  /** The API answered an error status, or something that is not JSON. */
  static final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;

    ApiException(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  /** The API could not be reached. */
  static final class UnreachableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UnreachableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  JsonObject get(String path) {
    return expectOk(send("GET", path, null), "GET", path);
  }

  JsonObject post(String path, JsonObject body) {
    return expectOk(send("POST", path, body), "POST", path);
  }

  /** Sends a request; any status is returned, a body that is not JSON is an {@link ApiException}. */
  Answer send(String method, String path, JsonObject body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
      .header("Accept", "application/json");
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      request.header("Content-Type", "application/json")
        .method(method, HttpRequest.BodyPublishers.ofString(body.encode(), StandardCharsets.UTF_8));
    } else {
      if (!"GET".equals(method)) {
        // The API takes state-changing requests as JSON only, with a body or without.
        request.header("Content-Type", "application/json");
      }
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UnreachableException("Cannot reach the management API at " + base + ": "
        + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName() + " (is the node running, is the URL right?)"), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnreachableException("Interrupted while asking " + base, e);
    }
    String text = response.body();
    if (text == null || text.isBlank()) {
      return new Answer(response.statusCode(), new JsonObject());
    }
    try {
      return new Answer(response.statusCode(), new JsonObject(text));
    } catch (DecodeException | ClassCastException e) {
      throw new ApiException(response.statusCode(), method + " " + path + " answered " + response.statusCode()
        + " with something that is not JSON: is " + base + " a Sagebus management API?");
    }
  }

  /**
   * Fails for a 401 answer, saying how to give the token to the CLI rather than which HTTP header the API wants.
   *
   * @throws ApiException always
   */
  void unauthorized(Answer answer) {
    throw new ApiException(answer.status(), token == null
      ? "the API at " + base + " needs a token (401 UNAUTHORIZED): give it with --token TOKEN, or set the"
        + " environment variable SAGEBUS_TOKEN"
      : "the API at " + base + " refused the token (401 UNAUTHORIZED): check --token, or the environment variable"
        + " SAGEBUS_TOKEN, against the node's \"management\" token");
  }

  private JsonObject expectOk(Answer answer, String method, String path) {
    if (answer.status() == 401) {
      unauthorized(answer);
    }
    if (!answer.ok()) {
      JsonObject b = answer.body();
      String error = b.getString("error", "HTTP_" + answer.status());
      String message = b.getString("message", "");
      throw new ApiException(answer.status(), method + " " + path + " failed: " + answer.status() + " " + error
        + (message.isEmpty() ? "" : ": " + message));
    }
    return answer.body();
  }

  @Override
  public void close() {
    http.close();
  }
}
