package io.sagebus.management.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * A command that talks to the API: opens a client, runs, and turns the API's errors into a message and an exit code.
 */
abstract class ApiCommand implements Callable<Integer> {

  @Mixin
  ApiOptions api;

  @Spec
  CommandSpec spec;

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  @Override
  public Integer call() {
    try (ApiClient client = api.client()) {
      return run(client);
    } catch (ApiClient.UnreachableException e) {
      spec.commandLine().getErr().println("sagebus: " + e.getMessage());
      return SagebusCli.EXIT_UNREACHABLE;
    } catch (ApiClient.ApiException e) {
      spec.commandLine().getErr().println("sagebus: " + e.getMessage());
      return SagebusCli.EXIT_FAILED;
    } finally {
      out().flush();
      spec.commandLine().getErr().flush();
    }
  }

  abstract int run(ApiClient client);

  // ---- formatting shared by the commands

  static String millis(long ms) {
    if (ms < 1000) {
      return ms + " ms";
    }
    long s = ms / 1000;
    if (s < 60) {
      return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
  }

  static String bytes(long b) {
    if (b < 0) {
      return "-";
    }
    return b < 1024 * 1024 ? (b / 1024) + " KiB" : (b / (1024 * 1024)) + " MiB";
  }

  static String micros(long us) {
    return us < 1000 ? us + " us" : String.format(Locale.ROOT, "%.1f ms", us / 1000.0);
  }

  static long errorsOf(JsonObject service) {
    long n = 0;
    for (var e : service.getJsonObject("errors", new JsonObject())) {
      n += ((Number) e.getValue()).longValue();
    }
    return n;
  }
}
