package io.sagebus.management.cli;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** {@code sagebus call SERVICE [--method M] JSON_ARGS...}: calls a service and prints its result. */
@Command(name = "call", mixinStandardHelpOptions = true, description = "Calls a service through the API and prints "
  + "its result as JSON, or its typed error with the error's code (exit 1). Each argument is one JSON value: "
  + "numbers and true/false/null as they are, strings in double quotes ('\"u1\"'), objects and arrays.")
final class CallCommand extends ApiCommand {

  @Parameters(index = "0", paramLabel = "SERVICE", description = "The service's name (sagebus services lists them).")
  String service;

  @Parameters(index = "1..*", paramLabel = "JSON_ARGS", description = "The method's arguments, one JSON value each.")
  List<String> args = new ArrayList<>();

  @Option(names = {"-m", "--method"}, paramLabel = "METHOD", defaultValue = "process",
    description = "The method to call (default: ${DEFAULT-VALUE}).")
  String method;

  @Option(names = "--call-timeout-ms", paramLabel = "MS",
    description = "The call's own timeout, 1 to 600000 ms (default: a second under --timeout-ms, so that a call"
      + " that takes too long ends in the API's TIMEOUT error, not in the CLI giving up on the answer).")
  Long callTimeoutMs;

  /** The most a call may be given by the API. */
  private static final long MAX_CALL_TIMEOUT_MS = 600_000;
  /** Time left to the API to answer once the call's own timeout is spent. */
  private static final long ANSWER_MARGIN_MS = 1000;

  @Override
  public Integer call() {
    if (callTimeoutMs != null) {
      // The HTTP answer may take as long as the call itself.
      api.timeoutMs = Math.max(api.timeoutMs, callTimeoutMs + ANSWER_MARGIN_MS);
    }
    return super.call();
  }

  @Override
  int run(ApiClient client) {
    JsonArray values = new JsonArray();
    for (int i = 0; i < args.size(); i++) {
      values.add(parse(i + 1, args.get(i)));
    }
    JsonObject body = new JsonObject().put("method", method).put("args", values);
    body.put("timeoutMs", callTimeoutMs != null ? callTimeoutMs
      : Math.min(MAX_CALL_TIMEOUT_MS, Math.max(1, api.timeoutMs - ANSWER_MARGIN_MS)));
    String path = "/services/" + URLEncoder.encode(service, StandardCharsets.UTF_8) + "/call";
    ApiClient.Answer answer = client.send("POST", path, body);
    if (answer.status() == 401) {
      client.unauthorized(answer);
    }
    if (!answer.ok()) {
      JsonObject error = answer.body();
      StringBuilder sb = new StringBuilder(service).append('.').append(method).append(" failed: ")
        .append(error.getString("error", "HTTP_" + answer.status())).append(" (HTTP ").append(answer.status())
        .append(')');
      String message = error.getString("message", "");
      if (!message.isEmpty()) {
        sb.append(": ").append(message);
      }
      String remoteType = error.getString("remoteType");
      if (remoteType != null && !message.contains(remoteType)) {
        sb.append(" [").append(remoteType).append(']');
      }
      throw new ApiClient.ApiException(answer.status(), sb.toString());
    }
    out().println(Json.encode(answer.body().getValue("result")));
    return 0;
  }

  private Object parse(int position, String text) {
    try {
      return Json.decodeValue(text);
    } catch (DecodeException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "Argument " + position + " (" + text + ") is not a"
        + " JSON value: write strings in double quotes, such as '\"" + text.replace("'", "") + "\"'");
    }
  }
}
