package io.sagebus.launcher;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.net.URL;
import java.security.CodeSource;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * The {@code Main-Class} of Sagebus's runnable jars ({@code sagebus-node.jar}, {@code sagebus-cli.jar},
 * {@code sagebus-samples.jar}, {@code sagebus-benchmarks.jar}). It is compiled for Java 8, so any JVM
 * can load it: on a JVM older than {@value #REQUIRED_JAVA} it prints one line on standard error, saying
 * which JDK the jar needs and how to find one, and exits with status {@value #EXIT_OLD_JAVA}; otherwise
 * it calls the {@code main} method of the class named by the jar's manifest attribute
 * {@value #MAIN_CLASS_ATTRIBUTE}, with the same arguments.
 */
public final class Launcher {

  /** The oldest Java feature release Sagebus runs on. */
  public static final int REQUIRED_JAVA = 21;
  /** Exit status when the JVM is older than {@link #REQUIRED_JAVA}. */
  public static final int EXIT_OLD_JAVA = 1;
  /** The manifest attribute naming the class whose {@code main} the launcher calls. */
  public static final String MAIN_CLASS_ATTRIBUTE = "Sagebus-Main-Class";

  private Launcher() {
  }

  /**
   * Checks the Java version, then runs the jar's real main class.
   *
   * @param args the command-line arguments, handed to the real main class unchanged
   * @throws Exception whatever the real main method throws; an {@link IllegalStateException} when the
   *                   jar's manifest names no main class
   */
  public static void main(String[] args) throws Exception {
    int feature = featureVersion(System.getProperty("java.specification.version"));
    if (feature < REQUIRED_JAVA) {
      System.err.println(tooOldMessage(jarName(), feature, System.getProperty("java.home")));
      System.exit(EXIT_OLD_JAVA);
      return;
    }
    Method main = Class.forName(mainClassName()).getMethod("main", String[].class);
    try {
      main.invoke(null, (Object) args);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception) {
        throw (Exception) cause;
      }
      throw (Error) cause;
    }
  }

  /**
   * {@return the line printed on a JVM that is too old}
   *
   * @param jar      the name of the jar being run, for instance {@code sagebus-node.jar}
   * @param feature  the running JVM's feature release, for instance 17
   * @param javaHome the running JVM's {@code java.home}
   */
  public static String tooOldMessage(String jar, int feature, String javaHome) {
    return jar + " needs Java " + REQUIRED_JAVA + " or newer, but this java is Java " + feature + " (" + javaHome
      + "): run it with the java of a JDK " + REQUIRED_JAVA + "+ (in the Sagebus folder, `. .ci/find-jdk.sh` finds"
      + " one and puts it first on PATH)";
  }

  /**
   * {@return the feature release in a {@code java.specification.version}: 8 for "1.8", 17 for "17"; 0 when unreadable}
   *
   * @param specificationVersion the value of the system property {@code java.specification.version}
   */
  public static int featureVersion(String specificationVersion) {
    if (specificationVersion == null) {
      return 0;
    }
    String version = specificationVersion.startsWith("1.") ? specificationVersion.substring(2) : specificationVersion;
    int end = 0;
    while (end < version.length() && Character.isDigit(version.charAt(end))) {
      end++;
    }
    return end == 0 ? 0 : Integer.parseInt(version.substring(0, end));
  }

  private static File codeSource() {
    CodeSource source = Launcher.class.getProtectionDomain().getCodeSource();
    URL location = source == null ? null : source.getLocation();
    if (location == null) {
      return null;
    }
    try {
      return new File(location.toURI());
    } catch (URISyntaxException | IllegalArgumentException e) {
      return null;
    }
  }

  private static String jarName() {
    File jar = codeSource();
    return jar == null ? "This Sagebus program" : jar.getName();
  }

  private static String mainClassName() throws IOException {
    File jar = codeSource();
    if (jar != null && jar.isFile()) {
      try (JarFile file = new JarFile(jar)) {
        Manifest manifest = file.getManifest();
        String name = manifest == null ? null : manifest.getMainAttributes().getValue(new Attributes.Name(MAIN_CLASS_ATTRIBUTE));
        if (name != null && !name.trim().isEmpty()) {
          return name.trim();
        }
      }
    }
    throw new IllegalStateException("The manifest of " + jar + " names no " + MAIN_CLASS_ATTRIBUTE
      + ": io.sagebus.launcher.Launcher runs the main class that attribute names");
  }
}
