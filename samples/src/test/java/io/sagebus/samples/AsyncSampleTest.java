package io.sagebus.samples;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Asserts what AsyncSample prints and counts, never how fast it ran. */
class AsyncSampleTest {

  static final Pattern PROGRESS = Pattern.compile("progress: [\\d,]+ records, [\\d,]+ records/s");
  static final Pattern DONE = Pattern.compile("done: ([\\d,]+) records in \\d+\\.\\d{3} s, [\\d,]+ records/s");
  static final Pattern BOUND = Pattern.compile(
    "bound: 100 in flight / 5 ms per call = 20,000 records/s; reached (\\d+)%");

  /**
   * Checks the lines of a run of {@code records} records and returns how many progress lines it printed.
   */
  static int assertOutput(List<String> lines, int records) {
    assertThat(lines).hasSizeGreaterThanOrEqualTo(3);
    assertThat(lines.getFirst()).isEqualTo(
      String.format(Locale.ROOT, "async: %,d records, each through a 5 ms service call, at most 100 in flight", records));
    List<String> progress = lines.subList(1, lines.size() - 2);
    assertThat(progress).allMatch(line -> PROGRESS.matcher(line).matches());

    Matcher done = DONE.matcher(lines.get(lines.size() - 2));
    assertThat(done.matches()).as("done line: %s", lines.get(lines.size() - 2)).isTrue();
    assertThat(done.group(1)).isEqualTo(String.format(Locale.ROOT, "%,d", records));

    Matcher bound = BOUND.matcher(lines.getLast());
    assertThat(bound.matches()).as("bound line: %s", lines.getLast()).isTrue();
    // 100 calls in flight that take at least 5 ms each cannot go faster than 20,000/s.
    assertThat(Integer.parseInt(bound.group(1))).isBetween(0, 100);
    return progress.size();
  }

  @Test
  void runsEveryRecordThroughTheServiceAndReportsTheRateAgainstTheBound() throws Exception {
    assertOutput(SampleOutput.of(out -> AsyncSample.run(out, 1_000)), 1_000);
  }

  @Test
  void printsProgressWhileItRuns() throws Exception {
    // 30,000 records take at least 1.5 s at the bound of 20,000/s: the once-a-second line shows at least once.
    assertThat(assertOutput(SampleOutput.of(out -> AsyncSample.run(out, 30_000)), 30_000)).isPositive();
  }

  @Test
  void readsTheRecordCountFromItsArgument() {
    assertThat(AsyncSample.records(List.of())).isEqualTo(AsyncSample.DEFAULT_RECORDS);
    assertThat(AsyncSample.records(List.of("5000"))).isEqualTo(5_000);
    assertThat(AsyncSample.records(List.of("5_000"))).isEqualTo(5_000);
    assertThat(AsyncSample.records(List.of("5,000"))).isEqualTo(5_000);
    for (String bad : List.of("0", "-3", "many", "")) {
      assertThatThrownBy(() -> AsyncSample.records(List.of(bad))).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("The record count must be a positive integer, got '" + bad + "'");
    }
  }
}
