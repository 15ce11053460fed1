package io.sagebus.samples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Runs a sample in this JVM and returns what it printed. */
final class SampleOutput {

  private SampleOutput() {
  }

  /**
   * @param sample a sample
   * @return the lines it printed
   * @throws Exception what the sample threw
   */
  static List<String> of(Samples.Sample sample) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      sample.run(out);
    }
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }
}
