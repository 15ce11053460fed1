package io.sagebus.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The runnable jars as a user starts them with {@code java -jar}: on a JDK older than 21 each prints
 * one line naming the JDK it needs; on the build's JDK each starts with no warning (no add-opens
 * advice, no logback status dump, no duplicate-gauge warning), apart from the JDK's own
 * {@code sun.misc.Unsafe} notice on JDK 24+ for jars that start Hazelcast, which no manifest can
 * silence (README, "Logging"). Each jar carries exactly one logging configuration and the JVM
 * options it needs in its manifest.
 */
class RunnableJarsIT {

  /** Every runnable jar, relative to the project folder. */
  static final List<String> JARS = List.of(
    "cluster/target/sagebus-node.jar",
    "management/target/sagebus-cli.jar",
    "samples/target/sagebus-samples.jar",
    "benchmarks/target/sagebus-benchmarks.jar");

  /** The JDK's notice, printed once per JVM on JDK 24+ when Hazelcast first touches sun.misc.Unsafe. */
  private static final Pattern UNSAFE_NOTICE = Pattern.compile("WARNING: (A terminally deprecated method in sun\\.misc\\.Unsafe has been called"
    + "|sun\\.misc\\.Unsafe::\\w+ has been called by com\\.hazelcast\\..*"
    + "|Please consider reporting this to the maintainers of class com\\.hazelcast\\..*"
    + "|sun\\.misc\\.Unsafe::\\w+ will be removed in a future release)");

  private static final Path ROOT = Path.of(System.getProperty("sagebus.root", ".."));
  private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

  @TempDir
  Path dir;

  private static Path jar(String name) {
    Path jar = ROOT.resolve(name);
    assertThat(jar).as("built jar (run after package)").isRegularFile();
    return jar;
  }

  /** {@return the java of a JDK older than 21 on this machine: -Dsagebus.old.java, or one under /usr/lib/jvm or /opt/java} */
  static Optional<Path> oldJava() throws IOException {
    String given = System.getProperty("sagebus.old.java");
    if (given != null && !given.isBlank()) {
      return Optional.of(Path.of(given));
    }
    List<Path> homes = new ArrayList<>();
    for (String parent : List.of("/usr/lib/jvm", "/opt/java")) {
      Path folder = Path.of(parent);
      if (Files.isDirectory(folder)) {
        try (Stream<Path> list = Files.list(folder)) {
          list.sorted().forEach(homes::add);
        }
      }
    }
    Pattern version = Pattern.compile("^JAVA_VERSION=\"(1\\.)?(\\d+)", Pattern.MULTILINE);
    for (Path home : homes) {
      Path release = home.resolve("release");
      Path java = home.resolve("bin/java");
      if (Files.isRegularFile(release) && Files.isExecutable(java)) {
        Matcher m = version.matcher(Files.readString(release));
        if (m.find() && Integer.parseInt(m.group(2)) < 21) {
          return Optional.of(java);
        }
      }
    }
    return Optional.empty();
  }

  @Test
  void onAJdkOlderThan21EachJarPrintsOneLineSayingWhichJdkItNeeds() throws Exception {
    Optional<Path> old = oldJava();
    assumeThat(old).as("a JDK older than 21 on this machine (or -Dsagebus.old.java)").isPresent();
    Run version = Run.of(new ProcessBuilder(old.get().toString(), "-XshowSettings:properties", "-version"), 60);
    Matcher feature = Pattern.compile("java\\.specification\\.version = (1\\.)?(\\d+)").matcher(version.err());
    assertThat(feature.find()).as("version of %s: %s", old.get(), version.both()).isTrue();
    for (String name : JARS) {
      Path jar = jar(name);
      Run run = Run.of(new ProcessBuilder(old.get().toString(), "-jar", jar.toString(), "--help"), 60);
      assertThat(run.exitCode()).as("%s on %s: exit code; %s", name, old.get(), run.both()).isEqualTo(1);
      assertThat(run.out()).as("%s: standard output", name).isEmpty();
      assertThat(run.err().lines().toList()).as("%s: standard error", name).singleElement().asString()
        .startsWith(jar.getFileName() + " needs Java 21 or newer, but this java is Java " + feature.group(2) + " (")
        .contains("`. .ci/find-jdk.sh`")
        .doesNotContain("Exception", "Error");
    }
  }

  @Test
  void eachJarHasOneLoggingConfigurationAndItsJvmOptionsInItsManifest() throws Exception {
    for (String name : JARS) {
      try (JarFile jar = new JarFile(jar(name).toFile())) {
        List<String> configs = new ArrayList<>();
        for (Enumeration<JarEntry> entries = jar.entries(); entries.hasMoreElements(); ) {
          String entry = entries.nextElement().getName();
          if (entry.matches("(.*/)?logback(-test)?\\.(xml|groovy|scmo)")) {
            configs.add(entry);
          }
        }
        assertThat(configs).as("%s: logging configurations", name).containsExactly("logback.xml");
        assertThat(jar.getEntry("META-INF/LICENSE")).as("%s: META-INF/LICENSE", name).isNotNull();
        Attributes manifest = jar.getManifest().getMainAttributes();
        assertThat(manifest.getValue("Main-Class")).as(name).isEqualTo("io.sagebus.launcher.Launcher");
        assertThat(manifest.getValue("Sagebus-Main-Class")).as(name).startsWith("io.sagebus.");
        assertThat(manifest.getValue("Add-Opens")).as(name).contains("java.base/java.lang", "java.base/sun.nio.ch",
          "java.management/sun.management", "jdk.management/com.sun.management.internal");
        assertThat(manifest.getValue("Add-Exports")).as(name).contains("java.base/jdk.internal.ref");
        assertThat(manifest.getValue("Enable-Native-Access")).as(name).isEqualTo("ALL-UNNAMED");
      }
    }
  }

  @Test
  void theCliSamplesAndBenchmarksJarsStartWithoutAWarning() throws Exception {
    List<List<String>> commands = List.of(
      List.of("management/target/sagebus-cli.jar", "--help"),
      List.of("samples/target/sagebus-samples.jar", "quickstart"),
      List.of("benchmarks/target/sagebus-benchmarks.jar", "--help"));
    for (List<String> command : commands) {
      List<String> words = new ArrayList<>(List.of(JAVA.toString(), "-jar", jar(command.get(0)).toString()));
      words.addAll(command.subList(1, command.size()));
      Run run = Run.of(new ProcessBuilder(words), 120);
      assertThat(run.exitCode()).as("%s: exit code; %s", command, run.both()).isZero();
      assertThat(run.err()).as("%s: standard error", command).isEmpty();
      assertThat(run.out()).as("%s: standard output", command).doesNotContain("WARN", "SLF4J", "|-INFO");
    }
  }

  @Test
  void theNodeJarStartsAndStopsWithoutAWarning() throws Exception {
    startAndStopNode(List.of("-jar", jar("cluster/target/sagebus-node.jar").toString()), true);
  }

  @Test
  void aNodeOnTheClassPathWithTheBuiltArgFileStartsWithoutAnyWarning() throws Exception {
    // README, "Logging": java @cluster/target/sagebus-node.args -cp sagebus-node.jar:... io.sagebus.cluster.SagebusNode
    Path args = ROOT.resolve("cluster/target/sagebus-node.args");
    assertThat(Files.readString(args)).contains("--add-opens java.base/java.lang=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow");
    startAndStopNode(List.of("@" + args, "-cp", jar("cluster/target/sagebus-node.jar").toString(), "io.sagebus.cluster.SagebusNode"), false);
  }

  private void startAndStopNode(List<String> javaArgs, boolean jdkUnsafeNoticeAllowed) throws Exception {
    startAndStopNode(javaArgs, jdkUnsafeNoticeAllowed, 3);
  }

  /** The free port is chosen before the node binds it; another build may take it first: then try another. */
  private void startAndStopNode(List<String> javaArgs, boolean jdkUnsafeNoticeAllowed, int attempts) throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String cluster = "runnable-jars-it-" + UUID.randomUUID();
    Path conf = Files.writeString(dir.resolve("node.json"), "{\"cluster\": {\"clusterName\": \"" + cluster
      + "\", \"port\": " + port + ", \"portCount\": 1}, \"environment\": \"it\", \"nodeId\": \"it-1\", \"services\": {}}");
    List<String> command = new ArrayList<>(List.of(JAVA.toString(), "-Dsagebus.parent.pid=" + ProcessHandle.current().pid()));
    command.addAll(javaArgs);
    command.addAll(List.of("-cluster", "-cluster-host", "127.0.0.1", "-conf", conf.toString()));
    Process node = new ProcessBuilder(command).start();
    StringBuffer out = new StringBuffer();
    StringBuffer err = new StringBuffer();
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread outReader = Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          out.append(line).append('\n');
          if (line.equals("sagebus node it-1 ready in cluster " + cluster + " (environment it)")) {
            ready.complete(null);
          }
        }
      } catch (IOException e) {
        ready.completeExceptionally(e);
      }
      ready.completeExceptionally(new IllegalStateException("the node's output ended before its ready line"));
    });
    Thread errReader = Run.drain(node.getErrorStream(), err);
    try {
      try {
        ready.get(120, TimeUnit.SECONDS);
      } catch (Exception e) {
        if (attempts > 1 && out.toString().contains("Port [" + port + "] is already in use")) {
          node.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
          startAndStopNode(javaArgs, jdkUnsafeNoticeAllowed, attempts - 1);
          return;
        }
        throw new AssertionError("the node was not ready: " + e + "\n--- standard output:\n" + out
          + "\n--- standard error:\n" + err, e);
      }
      node.destroy(); // SIGTERM, as `kill` does
      assertThat(node.waitFor(60, TimeUnit.SECONDS)).as("node ended after SIGTERM; %s", out).isTrue();
      outReader.join(10_000);
      errReader.join(10_000);
      String both = "\n--- standard output:\n" + out + "\n--- standard error:\n" + err;
      assertThat(node.exitValue()).as("exit code (128 + SIGTERM)%s", both).isEqualTo(143);
      List<String> stderr = err.toString().lines().toList();
      List<String> left = jdkUnsafeNoticeAllowed && Runtime.version().feature() >= 24
        ? stderr.stream().filter(line -> !UNSAFE_NOTICE.matcher(line).matches()).toList()
        : stderr;
      assertThat(left).as("%s: standard error (but for the JDK's sun.misc.Unsafe notice with -jar)%s", javaArgs, both).isEqualTo(Collections.emptyList());
      assertThat(withoutBlockedThreadNotices(out.toString())).as("standard output%s", both)
        .doesNotContain(" WARN ", " ERROR ", "|-", "add-opens", "already registered", "SLF4J");
    } finally {
      if (node.isAlive()) {
        node.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * The output without Vert.x's blocked-thread notices (and the stack a long block adds): on a loaded machine a
   * node's start can hold an event loop past Vert.x's 2 s limit while classes load. That says how busy the machine
   * is, not that the node is misconfigured; every other WARN still fails the test.
   */
  private static String withoutBlockedThreadNotices(String output) {
    StringBuilder kept = new StringBuilder();
    boolean inNotice = false;
    for (String line : output.lines().toList()) {
      if (line.contains("BlockedThreadChecker")) {
        inNotice = true;
        continue;
      }
      if (inNotice && (line.startsWith("\t") || line.startsWith(" ") || line.contains("VertxException: Thread blocked"))) {
        continue;
      }
      inNotice = false;
      kept.append(line).append('\n');
    }
    return kept.toString();
  }
}
