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
    assertThat(run.out()).contains("Samples:", "Usage: java -jar sagebus-samples.jar SAMPLE [ARGUMENTS]");
    assertThat(run.out()).anySatisfy(line -> assertThat(line).startsWith("  quickstart"));
  }

  @Test
  void helpListsTheSamplesAndBadArgumentsGetOneLine() throws Exception {
    Run help = java("--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.out()).first().isEqualTo("Usage: java -jar sagebus-samples.jar SAMPLE [ARGUMENTS]");
    assertThat(help.out()).anySatisfy(line -> assertThat(line).startsWith("  serve "));
    assertThat(help.err()).isEmpty();

    Run lots = java("async", "lots");
    assertThat(lots.exitCode()).isEqualTo(2);
    assertThat(lots.err()).containsExactly("Sample 'async': The record count must be a positive integer, got 'lots'"
      + " (mapAsync keeping 100 calls in flight to a 5 ms service: async [RECORDS])");
    assertThat(lots.out()).isEmpty();
  }

  @Test
  void serveRunsUntilSigtermThenStopsCleanly() throws Exception {
    Path jar = Path.of(System.getProperty("sagebus.samples.jar", "target/sagebus-samples.jar")).toAbsolutePath();
    String javaCommand = ProcessHandle.current().info().command().orElseThrow();
    File out = dir.resolve("serve-out.txt").toFile();
    File err = dir.resolve("serve-err.txt").toFile();
    // Port 0: a free one (the README's 8089 may be taken on a shared machine).
    Process p = new ProcessBuilder(javaCommand, "-jar", jar.toString(), "serve", "0").redirectOutput(out).redirectError(err)
      .start();
    try {
      org.awaitility.Awaitility.await("serve's last start line").atMost(java.time.Duration.ofSeconds(TIMEOUT_SECONDS))
        .pollInterval(java.time.Duration.ofMillis(100))
        .failFast("serve ended before it was ready", () -> !p.isAlive())
        .until(() -> Files.readString(out.toPath()).contains("serve: running until Ctrl-C"));
      List<String> started = Files.readAllLines(out.toPath());
      assertThat(started.get(0)).isEqualTo("serve: environment 'shop', services [echo, profile], pipeline"
        + " 'nightly-report'");
      String url = started.get(1).replaceFirst("^serve: management API on (http://127\\.0\\.0\\.1:\\d+) .*$", "$1");
      assertThat(url).startsWith("http://127.0.0.1:");
      java.net.http.HttpResponse<String> pipelines = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/pipelines")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(pipelines.body()).isEqualTo("{\"pipelines\":[\"nightly-report\"]}");

      p.destroy(); // SIGTERM, as Ctrl-C or kill
      assertThat(p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("serve ended after SIGTERM").isTrue();
      assertThat(p.exitValue()).as("exit code (128 + SIGTERM)").isEqualTo(143);
      assertThat(Files.readAllLines(out.toPath())).endsWith("serve: stopping", "serve: stopped");
      assertThat(Files.readString(err.toPath())).doesNotContain("Exception");
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void serveOnAPortInUseExits2WithOneLine() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
      taken.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
      int port = taken.getLocalPort();
      Run run = java("serve", Integer.toString(port));
      assertThat(run.exitCode()).as("exit code; stderr %s", run.err()).isEqualTo(2);
      assertThat(run.err()).filteredOn(line -> line.startsWith("Sample 'serve'")).singleElement().asString()
        .startsWith("Sample 'serve': 127.0.0.1:" + port + " is in use (");
      assertThat(run.err()).noneMatch(line -> line.contains("Exception") || line.startsWith("\tat "));
    }
  }
}
