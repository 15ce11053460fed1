package io.sagebus.samples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the shaded jar the way the README says, {@code java -jar samples/target/sagebus-samples.jar NAME},
 * in a child JVM started with this JVM's own {@code java}. A sample must end on its own: its main
 * does not call {@code System.exit} on success, so a thread left running would show up here as a timeout.
 */
class SamplesJarIT {

  private static final long TIMEOUT_SECONDS = 60;

  @TempDir
  Path dir;

  /** What one child JVM did. */
  private record Run(int exitCode, List<String> out, List<String> err) {
  }

  private Run java(String... args) throws IOException, InterruptedException {
    Path jar = Path.of(System.getProperty("sagebus.samples.jar", "target/sagebus-samples.jar")).toAbsolutePath();
    assertThat(jar).as("the shaded jar, built by mvn package").isRegularFile();
    String java = ProcessHandle.current().info().command().orElseThrow();
    List<String> command = new ArrayList<>(List.of(java, "-jar", jar.toString()));
    command.addAll(List.of(args));
    // Output goes to files, so a full pipe can never stall the child.
    File out = dir.resolve("out.txt").toFile();
    File err = dir.resolve("err.txt").toFile();
    Process p = new ProcessBuilder(command).redirectOutput(out).redirectError(err).start();
    try {
      boolean ended = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      assertThat(ended).as("%s ended within %d s; output so far:%n%s%n%s", command, TIMEOUT_SECONDS,
        Files.readString(out.toPath()), Files.readString(err.toPath())).isTrue();
      return new Run(p.exitValue(), Files.readAllLines(out.toPath(), StandardCharsets.UTF_8),
        Files.readAllLines(err.toPath(), StandardCharsets.UTF_8));
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void quickstartPrintsItsResultsAndExits0() throws Exception {
    Run run = java("quickstart");
    assertThat(run.exitCode()).as("exit code; stderr: %s", run.err()).isZero();
    assertThat(run.out()).containsExactly(QuickstartSampleTest.EXPECTED);
    assertThat(run.err()).noneMatch(line -> line.contains("Exception"));
  }

  @Test
  void manualPrintsItsResultsAndExits0() throws Exception {
    Run run = java("manual");
    assertThat(run.exitCode()).as("exit code; stderr: %s", run.err()).isZero();
    assertThat(run.out()).containsExactly(ManualDeploySampleTest.EXPECTED);
    assertThat(run.err()).noneMatch(line -> line.contains("Exception"));
  }

  @Test
  void enrichPrintsTheEnrichedRecordsAndExits0() throws Exception {
    Run run = java("enrich");
    assertThat(run.exitCode()).as("exit code; stderr: %s", run.err()).isZero();
    assertThat(run.out()).containsExactly(EnrichSampleTest.EXPECTED);
    assertThat(run.err()).noneMatch(line -> line.contains("Exception"));
  }

  @Test
  void asyncTakesItsRecordCountAndExits0() throws Exception {
    // Its progress timer is cancelled and its environment closed: the JVM ends on its own.
    Run run = java("async", "3000");
    assertThat(run.exitCode()).as("exit code; stderr: %s", run.err()).isZero();
    AsyncSampleTest.assertOutput(run.out(), 3_000);
    assertThat(run.err()).noneMatch(line -> line.contains("Exception"));
  }

  @Test
  void unknownSampleExits2WithTheList() throws Exception {
    Run run = java("no-such-sample");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("Unknown sample 'no-such-sample'.");
    for (Samples.Entry e : Samples.samples()) {
      assertThat(run.err()).anySatisfy(line -> assertThat(line).contains(e.name()).endsWith(e.description()));
    }
    assertThat(run.out()).isEmpty();
  }

  @Test
  void noArgumentListsTheSamplesAndExits0() throws Exception {
    Run run = java();
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("Samples:", "Usage: java -jar sagebus-samples.jar SAMPLE");
    assertThat(run.out()).anySatisfy(line -> assertThat(line).startsWith("  quickstart"));
  }
}
