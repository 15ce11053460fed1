package io.sagebus.samples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The terminal transcripts of a README section: fenced blocks whose lines start with {@code $ }
 * (a command) followed by what it printed, and the rule by which a shown output matches a real one.
 * <p>
 * The rule, which the README states beside the transcripts: spacing counts as one space; times
 * ({@code 748 ms}, {@code 4.9 s}, {@code 13 us}, {@code 1m02s}), rates ({@code 4010.7/s}), sizes
 * ({@code 25 MiB}), an ETA, a node's process id, host name and Java version stand for whatever the
 * run prints; in {@code RUNNING} progress lines every number does, and a block of them stands for
 * as many (or as few) as the run prints. Every other word (names, counts, statuses, messages)
 * must be what the command printed.
 */
final class ReadmeTranscript {

  /** One command of a transcript and the lines shown after it. */
  record Step(String command, List<String> shown) {
  }

  private static final Pattern TIME =
    Pattern.compile("\\b\\d+(\\.\\d+)? (ms|s|us)\\b|\\b\\d+m\\d{2}s\\b|\\b\\d+h\\d{2}m\\b");
  private static final Pattern RATE = Pattern.compile("\\b\\d+(\\.\\d+)?/s\\b");
  private static final Pattern SIZE = Pattern.compile("\\b\\d+ (KiB|MiB)\\b");
  private static final Pattern NODE_ROW = Pattern.compile("^(\\S+)@(\\d+) (\\S+) (yes|no) (\\d+) (\\S+) ");
  private static final Pattern PID = Pattern.compile("@(\\d+)\\b");

  private ReadmeTranscript() {
  }

  /** {@return the text of a README section, from its {@code ## title} line to the next {@code ## }} */
  static String section(String title) throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    int start = readme.indexOf("\n## " + title + "\n");
    assertThat(start).as("README has a section '%s'", title).isPositive();
    int end = readme.indexOf("\n## ", start + 1);
    return readme.substring(start, end < 0 ? readme.length() : end);
  }

  /** {@return the steps of every transcript block of a section, in order} */
  static List<Step> steps(String section) {
    List<Step> steps = new ArrayList<>();
    Matcher block = Pattern.compile("```\\n(\\$ .*?)```", Pattern.DOTALL).matcher(section);
    while (block.find()) {
      String command = null;
      List<String> shown = new ArrayList<>();
      for (String line : block.group(1).lines().toList()) {
        if (line.startsWith("$ ")) {
          if (command != null) {
            steps.add(new Step(command, List.copyOf(shown)));
          }
          command = line.substring(2);
          shown.clear();
        } else {
          shown.add(line);
        }
      }
      steps.add(new Step(command, List.copyOf(shown)));
    }
    return steps;
  }

  /** {@return a line with what varies from run to run replaced by placeholders, spacing made one space} */
  static String normalize(String line) {
    String s = line.strip().replaceAll("\\s+", " ");
    Matcher row = NODE_ROW.matcher(s);
    if (row.find()) {
      s = row.replaceFirst(Matcher.quoteReplacement(row.group(1)) + "@<pid> <host> " + row.group(4) + " <pid> <java> ");
    }
    Matcher pid = PID.matcher(s);
    if (pid.find()) {
      s = s.replace(pid.group(1), "<pid>");
    }
    s = TIME.matcher(s).replaceAll("<time>");
    s = RATE.matcher(s).replaceAll("<rate>");
    s = SIZE.matcher(s).replaceAll("<size>");
    s = s.replace("ETA ?", "ETA <time>");
    if (s.startsWith("RUNNING ")) {
      s = s.replaceAll("\\d+", "<n>");
    }
    return s;
  }

  /**
   * Asserts that what a command printed matches what the README shows after it.
   *
   * @param step    the README's command and its shown lines
   * @param printed the lines the command printed
   */
  static void assertMatches(Step step, List<String> printed) {
    List<String> shown = step.shown().stream().map(ReadmeTranscript::normalize).toList();
    List<String> real = printed.stream().map(ReadmeTranscript::normalize).toList();
    assertThat(real.stream().filter(l -> !l.startsWith("RUNNING ")).toList())
      .as("what `%s` printed:%n%s%nREADME shows:%n%s", step.command(), String.join("\n", printed),
        String.join("\n", step.shown()))
      .containsExactlyElementsOf(shown.stream().filter(l -> !l.startsWith("RUNNING ")).toList());
    List<String> shownProgress = shown.stream().filter(l -> l.startsWith("RUNNING ")).toList();
    assertThat(real.stream().filter(l -> l.startsWith("RUNNING ")).toList())
      .as("the progress lines of `%s`: %s", step.command(), printed)
      .allSatisfy(l -> assertThat(shownProgress).contains(l));
  }

  /**
   * {@return the words of a shell command line: single and double quotes group words and are removed}
   *
   * @param line a command line without pipes or variables
   */
  static List<String> words(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean inWord = false;
    char quote = 0;
    for (char c : line.toCharArray()) {
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          word.append(c);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
      } else if (c == '\\') {
        // a line continuation: nothing to keep
        continue;
      } else {
        word.append(c);
        inWord = true;
      }
    }
    assertThat((int) quote).as("quotes closed in %s", line).isZero();
    if (inWord) {
      words.add(word.toString());
    }
    return words;
  }
}
