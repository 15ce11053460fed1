package io.sagebus.samples;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SamplesTest {

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
         PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      return Samples.run(args, o, e);
    }
  }

  private static List<String> lines(ByteArrayOutputStream bytes) {
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void noArgumentListsEverySampleWithItsDescription() {
    assertThat(run()).isZero();
    assertThat(lines(out)).containsExactly(
      "Usage: java -jar sagebus-samples.jar SAMPLE [ARGUMENTS]",
      "Samples:",
      "  quickstart  register two services, call them sync, typed and async, and see a typed error",
      "  manual      deploy the deployment manager and a service task by hand in a Vertx you own",
      "  enrich      a batch of records through a map that calls a service, into a sink",
      "  async       mapAsync keeping 100 calls in flight to a 5 ms service: async [RECORDS]",
      "  batching    four concurrent calls of a batched method run as one invocation (README: Batching)",
      "  redeploy    a service redeployed with new options while a job calls it (README: Redeploying)",
      "  cluster     join the nodes of cluster sagebus-demo and run a job calling replicas on them (README: Run a "
        + "cluster)",
      "  serve       a local environment behind the management API on 127.0.0.1:8089 until Ctrl-C (README: "
        + "Management API and CLI): serve [PORT]");
    assertThat(lines(err)).isEmpty();
  }

  @Test
  void helpListsTheSamples() {
    for (String help : List.of("--help", "-h", "help")) {
      out.reset();
      assertThat(run(help)).isZero();
      assertThat(lines(out)).first().isEqualTo("Usage: java -jar sagebus-samples.jar SAMPLE [ARGUMENTS]");
      assertThat(lines(out)).anySatisfy(l -> assertThat(l).startsWith("  serve "));
    }
    assertThat(lines(err)).isEmpty();
  }

  @Test
  void unknownNameExitsWithStatus2AndListsTheSamples() {
    assertThat(run("nope")).isEqualTo(Samples.EXIT_UNKNOWN_SAMPLE).isEqualTo(2);
    assertThat(lines(err)).first().isEqualTo("Unknown sample 'nope'.");
    for (Samples.Entry e : Samples.samples()) {
      assertThat(lines(err)).anySatisfy(line -> assertThat(line).contains(e.name()).endsWith(e.description()));
    }
    assertThat(lines(out)).isEmpty();
  }

  @Test
  void dispatchesByName() {
    assertThat(run("manual")).isZero();
    assertThat(lines(out)).containsExactly(ManualDeploySampleTest.EXPECTED);
    assertThat(lines(err)).isEmpty();
  }

  @Test
  void passesTheArgumentsAfterTheNameToTheSample() {
    assertThat(run("async", "300")).isZero();
    assertThat(AsyncSampleTest.assertOutput(lines(out), 300)).isGreaterThanOrEqualTo(0);
    assertThat(lines(err)).isEmpty();
  }

  @Test
  void aSampleRefusingItsArgumentsSaysWhyInOneLineAndExitsWithStatus2() {
    assertThat(run("async", "lots")).isEqualTo(Samples.EXIT_BAD_ARGUMENTS).isEqualTo(2);
    assertThat(lines(err)).containsExactly("Sample 'async': The record count must be a positive integer, got 'lots'"
      + " (mapAsync keeping 100 calls in flight to a 5 ms service: async [RECORDS])");
    assertThat(lines(out)).isEmpty();
  }

  @Test
  void samplesHaveDistinctNamesAndOneLineDescriptions() {
    List<Samples.Entry> all = Samples.samples();
    assertThat(all).extracting(Samples.Entry::name).doesNotHaveDuplicates()
      .contains("quickstart", "manual", "enrich", "async");
    assertThat(all).allSatisfy(e -> {
      assertThat(e.name()).matches("[a-z][a-z0-9-]*");
      assertThat(e.description()).isNotBlank().doesNotContain("\n");
    });
  }
}
