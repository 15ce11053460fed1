package io.sagebus.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Builds, offline, the small consumer project in {@code src/test/resources/consumer} (it imports
 * {@code sagebus-bom} and depends on sagebus-core, sagebus-cluster and sagebus-management without
 * versions, as README's "Use Sagebus in your project" shows), against the Sagebus artifacts this build
 * installed into {@code target/it-repo} (the install-file executions of this module's pom). Everything
 * else is read, never written, from this build's own local repository, chained behind it with
 * {@code -Dmaven.repo.local.tail}. Then it checks the versions the consumer resolved and runs its
 * program, a LocalEnvironment calling one service.
 */
class ConsumerProjectIT {

  private static final long MAVEN_TIMEOUT_SECONDS = 120;

  private static Path project;
  private static Path itRepo;
  private static Path tailRepo;
  /** artifactId -> version, read from the consumer jar's manifest Class-Path (repository layout). */
  private static Map<String, String> resolved;
  private static List<String> classPath;

  private static String property(String name) {
    String value = System.getProperty(name);
    assertThat(value).as("system property %s (set by it/pom.xml)", name).isNotBlank();
    return value;
  }

  @BeforeAll
  static void buildTheConsumer() throws Exception {
    Path work = Path.of(property("sagebus.work"));
    deleteTree(work);
    project = work.resolve("project");
    copyTree(Path.of("src/test/resources/consumer"), project);
    // The consumer's own root: Maven must not take the Sagebus checkout's .mvn folder for it.
    Files.createDirectories(project.resolve(".mvn"));
    Path settings = Files.writeString(work.resolve("settings.xml"), "<settings/>\n");
    itRepo = Path.of(property("sagebus.it.repo"));
    tailRepo = Path.of(property("sagebus.tail.repo"));
    assertThat(itRepo.resolve("io/sagebus/sagebus-bom/" + property("sagebus.version"))).as("installed BOM").isDirectory();

    Path mvn = Path.of(property("sagebus.maven.home"), "bin", "mvn");
    List<String> command = new ArrayList<>(List.of(mvn.toString(), "-B", "-ntp", "-o",
      "-s", settings.toString(),
      "-Dmaven.repo.local=" + itRepo,
      "-Dmaven.repo.local.tail=" + tailRepo,
      "-Dmaven.test.skip=true"));
    for (String name : List.of("compiler.plugin.version", "resources.plugin.version", "jar.plugin.version", "surefire.version")) {
      command.add("-D" + name + "=" + property(name));
    }
    command.add("package");
    ProcessBuilder builder = new ProcessBuilder(command).directory(project.toFile()).redirectErrorStream(true);
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().remove("MAVEN_ARGS");
    Run maven = Run.of(builder, MAVEN_TIMEOUT_SECONDS);
    assertThat(maven.exitCode()).as("the consumer build's exit code; its Maven output:%n%s", maven.both()).isZero();

    Path jar = project.resolve("target/consumer-1.0.jar");
    try (JarFile file = new JarFile(jar.toFile())) {
      String entries = file.getManifest().getMainAttributes().getValue("Class-Path");
      assertThat(entries).as("Class-Path of %s; Maven output:%n%s", jar, maven.both()).isNotBlank();
      classPath = List.of(entries.trim().split("\\s+"));
    }
    resolved = new LinkedHashMap<>();
    for (String entry : classPath) {
      String[] parts = entry.split("/");
      resolved.put(parts[parts.length - 3], parts[parts.length - 2]);
    }
  }

  @Test
  void theBomAlignsMicrometerJacksonAndVertxAsSagebusBuildsThem() {
    assertThat(resolved).as("resolved artifacts").containsKeys("micrometer-core", "micrometer-registry-prometheus",
      "jackson-databind", "vertx-core", "vertx-hazelcast", "vertx-web", "slf4j-api", "logback-classic");
    // The mismatch the BOM exists for: the Vert.x BOM alone gives micrometer-core 1.15.x beside the registry 1.17.x.
    assertThat(resolved.get("micrometer-core")).isEqualTo(resolved.get("micrometer-registry-prometheus"))
      .isEqualTo(property("micrometer.version"));
    assertThat(resolved.get("jackson-databind")).isEqualTo(resolved.get("jackson-core")).isEqualTo(property("jackson.version"));
    assertThat(resolved.get("vertx-core")).isEqualTo(property("vertx.version")).isEqualTo("5.0.7");
    assertThat(resolved.get("vertx-hazelcast")).isEqualTo(property("vertx.version"));
    assertThat(resolved.get("slf4j-api")).isEqualTo(property("slf4j.version"));
    assertThat(resolved.get("logback-classic")).isEqualTo(property("logback.version"));
    assertThat(resolved).containsEntry("sagebus-core", property("sagebus.version"))
      .containsEntry("sagebus-cluster", property("sagebus.version"))
      .containsEntry("sagebus-management", property("sagebus.version"));
  }

  @Test
  void theLibrariesBringNoLoggingProviderNorLauncher() throws Exception {
    // The consumer added logback-classic itself; without it the libraries would bring none (optional in cluster and management).
    assertThat(resolved).doesNotContainKeys("sagebus-launcher", "sagebus-test-fixtures");
    for (String library : List.of("sagebus-core", "sagebus-cluster", "sagebus-management")) {
      Path jar = find(classPath.stream().filter(e -> e.contains("/" + library + "/")).findFirst().orElseThrow());
      try (JarFile file = new JarFile(jar.toFile())) {
        assertThat(file.getEntry("logback.xml")).as("logback.xml in %s", jar).isNull();
        assertThat(file.getEntry("logback-test.xml")).as("logback-test.xml in %s", jar).isNull();
      }
    }
  }

  @Test
  void theLibrariesPomsDeclareNoLoggingProviderTheirUsersWouldGet() throws Exception {
    for (String library : List.of("sagebus-core", "sagebus-cluster", "sagebus-management")) {
      Path pom = itRepo.resolve("io/sagebus/" + library + "/" + property("sagebus.version") + "/" + library + "-"
        + property("sagebus.version") + ".pom");
      Element project = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile()).getDocumentElement();
      NodeList dependencies = project.getElementsByTagName("dependency");
      for (int i = 0; i < dependencies.getLength(); i++) {
        Element dependency = (Element) dependencies.item(i);
        if (!(dependency.getParentNode().getParentNode() instanceof Element parent) || !parent.getTagName().equals("project")) {
          continue; // dependencyManagement or a plugin's dependencies
        }
        String artifact = text(dependency, "artifactId");
        if (artifact.startsWith("logback") || artifact.startsWith("slf4j-") && !artifact.equals("slf4j-api")
          || artifact.equals("sagebus-launcher")) {
          assertThat(text(dependency, "scope").equals("test") || text(dependency, "optional").equals("true"))
            .as("%s: %s is test-scoped or optional", library, artifact).isTrue();
        }
      }
    }
  }

  private static String text(Element parent, String tag) {
    NodeList nodes = parent.getElementsByTagName(tag);
    return nodes.getLength() == 0 ? "" : nodes.item(0).getTextContent().trim();
  }

  @Test
  void theConsumerRunsALocalEnvironment() throws Exception {
    List<String> entries = new ArrayList<>();
    entries.add(project.resolve("target/consumer-1.0.jar").toString());
    for (String entry : classPath) {
      entries.add(find(entry).toString());
    }
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder builder = new ProcessBuilder(java.toString(), "-cp", String.join(File.pathSeparator, entries),
      "com.example.Hello");
    Run program = Run.of(builder, 60);
    assertThat(program.exitCode()).as("exit code; output:%n%s", program.both()).isZero();
    assertThat(program.out().lines().toList()).as("output").containsExactly("upper: HELLO");
    // Its own logback.xml is the only one on its class path: no SLF4J or logback complaint, no warning.
    assertThat(program.err()).as("standard error").doesNotContain("SLF4J", "logback", "WARN", "ERROR");
  }

  @Test
  void theReadmeShowsTheConsumersBomImportAndDependencies() throws Exception {
    String readme = Files.readString(Path.of(property("sagebus.root"), "README.md"));
    int section = readme.indexOf("\n## Use Sagebus in your project\n");
    assertThat(section).as("README has a section 'Use Sagebus in your project'").isPositive();
    int start = readme.indexOf("```xml\n", section) + "```xml\n".length();
    String snippet = readme.substring(start, readme.indexOf("```", start));
    String pom = Files.readString(project.resolve("pom.xml"));
    assertThat(squash(pom)).as("the consumer pom holds README's snippet").contains(squash(snippet));
    assertThat(snippet).contains("<version>" + property("sagebus.version") + "</version>");
  }

  private static String squash(String xml) {
    return xml.replaceAll("<!--.*?-->", "").replaceAll("\\s+", "");
  }

  /** {@return the file of a repository-layout path: installed Sagebus artifacts first, then the tail repository} */
  private static Path find(String entry) {
    Path head = itRepo.resolve(entry);
    if (Files.isRegularFile(head)) {
      return head;
    }
    Path tail = tailRepo.resolve(entry);
    assertThat(tail).as("class-path entry %s in %s or %s", entry, itRepo, tailRepo).isRegularFile();
    return tail;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path path : paths.toList()) {
        Path target = to.resolve(from.relativize(path).toString());
        if (Files.isDirectory(path)) {
          Files.createDirectories(target);
        } else {
          Files.copy(path, target);
        }
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
