package io.sagebus.samples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The README quotes the samples' tagged regions verbatim, so its code compiles and is run by the sample tests. */
class ReadmeSnippetsTest {

  private static final Pattern REGION = Pattern.compile(
    "// tag::([\\w-]+)\\[]\\n(.*?)\\n[ \\t]*// end::\\1\\[]", Pattern.DOTALL);

  @Test
  void everyTaggedSampleRegionIsQuotedInTheReadme() throws IOException {
    Path readme = Path.of("..", "README.md");
    String text = Files.readString(readme);
    List<String> regions = new ArrayList<>();
    try (Stream<Path> sources = Files.walk(Path.of("src", "main", "java"))) {
      for (Path source : sources.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = REGION.matcher(Files.readString(source));
        while (m.find()) {
          regions.add(m.group(1));
          assertThat(text).as("README.md quotes region '%s' of %s", m.group(1), source)
            .contains(m.group(2).stripIndent().strip());
        }
      }
    }
    assertThat(regions).contains("quickstart", "quickstart-verticle", "manual", "enrich", "enrich-function", "serve",
      "batching", "batching-service");
  }
}
