package io.sagebus.management.cli;

import picocli.CommandLine.Option;

import java.time.Duration;

/**
 * The options every command takes: where the API is and the token.
 */
final class ApiOptions {

  static final String DEFAULT_URL = "http://127.0.0.1:8089";

  @Option(names = {"-u", "--url"}, defaultValue = DEFAULT_URL, paramLabel = "URL",
    description = "The node's management API (default: ${DEFAULT-VALUE}).")
  String url;

  @Option(names = {"-t", "--token"}, defaultValue = "${env:SAGEBUS_TOKEN}", paramLabel = "TOKEN",
    description = "The API's bearer token (default: the environment variable SAGEBUS_TOKEN).")
  String token;

  @Option(names = "--timeout-ms", defaultValue = "10000", paramLabel = "MS",
    description = "How long to wait for each answer of the API, in milliseconds (default: ${DEFAULT-VALUE}).")
  long timeoutMs;

  ApiClient client() {
    return new ApiClient(url, token, Duration.ofMillis(Math.max(1, timeoutMs)));
  }
}
