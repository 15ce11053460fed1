package io.sagebus.samples;

import io.sagebus.management.cli.SagebusCli;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Runs README's "Management API and CLI" walkthrough against a fresh {@code serve} sample in this
 * JVM: every {@code $ sagebus ...} and {@code $ curl ...} line of its transcripts, in order, and
 * checks what each printed against what the README shows after it, by {@link ReadmeTranscript}'s
 * rule. The sample listens on a free port here (the README's is 8089); the port is put back to
 * 8089 in what the commands print.
 */
class ServeSampleTest {

  private static final String README_URL = "http://127.0.0.1:" + ServeSample.DEFAULT_PORT;

  @Test
  void theReadmeTranscriptsAreWhatTheCommandsPrintAgainstAFreshServe() throws Exception {
    String section = ReadmeTranscript.section("Management API and CLI");
    assertThat(section).contains("io.sagebus.management").contains("java -jar samples/target/sagebus-samples.jar serve");
    List<ReadmeTranscript.Step> steps = ReadmeTranscript.steps(section);
    assertThat(steps).extracting(ReadmeTranscript.Step::command)
      .anyMatch(c -> c.startsWith("sagebus run "))
      .anyMatch(c -> c.startsWith("sagebus call "))
      .anyMatch(c -> c.startsWith("curl "));

    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
         ServeSample.Served served = ServeSample.start(0, null, out)) {
      String url = "http://127.0.0.1:" + served.port();
      // The sample's own lines, as the README shows them after "serve".
      List<String> lines = printed.toString(StandardCharsets.UTF_8).replace(url, README_URL).lines().toList();
      assertThat(lines).hasSize(2);
      assertThat(section).contains(String.join("\n", lines) + "\nserve: running until Ctrl-C\n");

      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      for (ReadmeTranscript.Step step : steps) {
        List<String> words = ReadmeTranscript.words(step.command());
        List<String> output = switch (words.getFirst()) {
          case "alias" -> List.of();
          case "sagebus" -> cli(words.subList(1, words.size()), url);
          case "curl" -> curl(http, words.subList(1, words.size()), url);
          default -> throw new AssertionError("README transcript runs an unknown command: " + step.command());
        };
        ReadmeTranscript.assertMatches(step, output.stream().map(l -> l.replace(url, README_URL)).toList());
      }
      // README: the report holds the users scoring 50 or more; the sinks count of the transcript is that.
      assertThat(served.reported()).isPositive();
      assertThat(section).contains(" " + served.reported() + " reached the sinks");
    }
  }

  /** Runs the CLI in this JVM, with {@code --url} of the sample; {@return its output, then its errors} */
  private static List<String> cli(List<String> args, String url) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> command = new ArrayList<>(args);
    command.addAll(List.of("--url", url));
    SagebusCli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
      .execute(command.toArray(String[]::new));
    List<String> lines = new ArrayList<>(out.toString().lines().toList());
    lines.addAll(err.toString().lines().toList());
    return lines;
  }

  /** Does what {@code curl -s [-X METHOD] [-H HEADER]... [-d DATA] URL} does; {@return the body's lines} */
  private static List<String> curl(HttpClient http, List<String> args, String url) throws Exception {
    String method = null;
    String data = null;
    String target = null;
    List<String[]> headers = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      switch (args.get(i)) {
        case "-s" -> { }
        case "-X" -> method = args.get(++i);
        case "-H" -> {
          String h = args.get(++i);
          headers.add(new String[] {h.substring(0, h.indexOf(':')).strip(), h.substring(h.indexOf(':') + 1).strip()});
        }
        case "-d" -> data = args.get(++i);
        default -> {
          assertThat(args.get(i)).as("a curl URL of the README").startsWith(README_URL + "/");
          target = url + args.get(i).substring(README_URL.length());
        }
      }
    }
    assertThat(target).as("the URL of curl %s", args).isNotNull();
    // As curl: -d makes it a POST unless -X says otherwise.
    String m = method != null ? method : data != null ? "POST" : "GET";
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(target)).timeout(Duration.ofSeconds(30))
      .method(m, data == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(data));
    headers.forEach(h -> request.header(h[0], h[1]));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString()).body().lines().toList();
  }

  @Test
  void aPortInUseIsRefusedWithOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 0));
      int port = taken.getLocalPort();
      assertThatThrownBy(() -> ServeSample.start(port, null, new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8)))
        .isInstanceOf(Samples.BadArgumentsException.class)
        .hasMessageStartingWith("127.0.0.1:" + port + " is in use (")
        .hasMessageEndingWith("stop what holds it (another serve?), or give another port: serve " + (port + 1));
    }
    assertThatThrownBy(() -> ServeSample.port(List.of("http")))
      .hasMessage("the port must be a number from 0 to 65535, got 'http'");
    assertThat(ServeSample.port(List.of())).isEqualTo(8089);
  }

  @Test
  void theTranscriptRuleIgnoresOnlyWhatVaries() {
    assertThat(ReadmeTranscript.normalize("profile          2      3000   13 us  4.6 ms"))
      .isEqualTo("profile 2 3000 <time> <time>");
    assertThat(ReadmeTranscript.normalize("shop@4130  vm    yes   4130  25.0.3+9-LTS  10.2 s     25 MiB  6028 MiB   0"))
      .isEqualTo("shop@<pid> <host> yes <pid> <java> <time> <size> <size> 0");
    assertThat(ReadmeTranscript.normalize("RUNNING  2270/3000 records (75%)  3727.4/s  ETA 195 ms  sinks 909  failed 0"))
      .isEqualTo(ReadmeTranscript.normalize("RUNNING  0/3000 records (0%)  0.0/s  ETA ?  sinks 0  failed 0"));
    assertThat(ReadmeTranscript.normalize("Job shop-job-1 COMPLETED: 3000 records in 748 ms (4010.7/s), 909 reached"))
      .isEqualTo("Job shop-job-1 COMPLETED: 3000 records in <time> (<rate>), 909 reached");
    assertThat(ReadmeTranscript.words("call profile '\"u1\"' --method \"add\""))
      .containsExactly("call", "profile", "\"u1\"", "--method", "add");
  }
}
