package io.sagebus.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A finished child process: its exit code, standard output and standard error, each read to its end.
 *
 * @param exitCode the exit code
 * @param out      what it wrote on standard output (everything, when the builder merges standard error)
 * @param err      what it wrote on standard error
 */
record Run(int exitCode, String out, String err) {

  /**
   * Starts {@code builder} and waits for the process's end.
   *
   * @throws AssertionError when it has not ended after {@code timeoutSeconds}, with its output so far
   */
  static Run of(ProcessBuilder builder, long timeoutSeconds) throws IOException, InterruptedException {
    Process process = builder.start();
    StringBuffer out = new StringBuffer();
    StringBuffer err = new StringBuffer();
    Thread outReader = drain(process.getInputStream(), out);
    Thread errReader = drain(process.getErrorStream(), err);
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly().waitFor();
      outReader.join(5_000);
      errReader.join(5_000);
      throw new AssertionError("no end after " + timeoutSeconds + " s: " + builder.command()
        + "\n--- standard output so far:\n" + out + "\n--- standard error so far:\n" + err);
    }
    outReader.join(10_000);
    errReader.join(10_000);
    return new Run(process.exitValue(), out.toString(), err.toString());
  }

  static Thread drain(InputStream in, StringBuffer into) {
    return Thread.ofPlatform().daemon().start(() -> {
      try (in) {
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) > 0) {
          into.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** {@return both outputs, for a failure message} */
  String both() {
    return "--- standard output:\n" + out + "\n--- standard error:\n" + err;
  }
}
