package io.sagebus.samples;

import java.io.PrintStream;
import java.util.List;

/**
 * Runs one sample by name: {@code java -jar samples/target/sagebus-samples.jar quickstart}.
 * Arguments after the name go to the sample ({@code async 5000}).
 * <p>
 * Without an argument, or with {@code --help}, {@code -h} or {@code help}, it lists the samples; with an
 * unknown name it lists them on standard error and exits with status {@value #EXIT_UNKNOWN_SAMPLE}.
 * A sample that refuses its arguments prints one line saying why and exits with status
 * {@value #EXIT_BAD_ARGUMENTS}; a sample that fails prints its failure and exits with status
 * {@value #EXIT_FAILED}. A sample that succeeds simply returns, so the JVM ends
 * only once the sample has closed everything it started.
 * <p>
 * A new sample is one more line in {@link #SAMPLES}.
 */
public final class Samples {

  /** Exit status when the sample named on the command line does not exist. */
  public static final int EXIT_UNKNOWN_SAMPLE = 2;
  /** Exit status when the sample refused the arguments given after its name. */
  public static final int EXIT_BAD_ARGUMENTS = 2;
  /** Exit status when the sample threw. */
  public static final int EXIT_FAILED = 1;

  /** Every sample, in the order they are listed. */
  private static final List<Entry> SAMPLES = List.of(
    new Entry("quickstart", "register two services, call them sync, typed and async, and see a typed error",
      QuickstartSample::run),
    new Entry("manual", "deploy the deployment manager and a service task by hand in a Vertx you own",
      ManualDeploySample::run),
    new Entry("enrich", "a batch of records through a map that calls a service, into a sink", EnrichSample::run),
    new Entry("async", "mapAsync keeping 100 calls in flight to a 5 ms service: async [RECORDS]",
      (args, out) -> AsyncSample.run(out, AsyncSample.records(args))),
    new Entry("batching", "four concurrent calls of a batched method run as one invocation (README: Batching)",
      BatchingSample::run),
    new Entry("redeploy", "a service redeployed with new options while a job calls it (README: Redeploying)",
      RedeploySample::run),
    new Entry("cluster", "join the nodes of cluster sagebus-demo and run a job calling replicas on them (README: "
      + "Run a cluster)", ClusterSample::run),
    new Entry("serve", "a local environment behind the management API on 127.0.0.1:8089 until Ctrl-C (README: "
      + "Management API and CLI): serve [PORT]", ServeSample::run));

  private static final List<String> HELP = List.of("-h", "--help", "help");

  private Samples() {
  }

  /**
   * Thrown by a sample whose arguments are wrong: {@link #run(String[], PrintStream, PrintStream)}
   * prints its message on one line, without a stack trace, and answers {@value #EXIT_BAD_ARGUMENTS}.
   */
  public static final class BadArgumentsException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /**
     * An exception saying what is wrong with the arguments.
     *
     * @param message what is wrong, and what is expected
     */
    public BadArgumentsException(String message) {
      super(message);
    }
  }

  /**
   * A runnable sample.
   */
  @FunctionalInterface
  public interface Sample {

    /**
     * Runs the sample to its end, having closed everything it started.
     *
     * @param out where the sample prints what it shows
     * @throws Exception when the sample fails
     */
    void run(PrintStream out) throws Exception;
  }

  /**
   * A runnable sample that reads the command-line arguments given after its name.
   */
  @FunctionalInterface
  public interface SampleWithArguments {

    /**
     * Runs the sample to its end, having closed everything it started.
     *
     * @param args the arguments after the sample's name
     * @param out  where the sample prints what it shows
     * @throws IllegalArgumentException when the arguments are wrong
     * @throws Exception when the sample fails
     */
    void run(List<String> args, PrintStream out) throws Exception;
  }

  /**
   * A sample's name, its one-line description, and the sample.
   *
   * @param name        the name given on the command line
   * @param description what the sample shows, in one line
   * @param sample      the sample, given the arguments after its name
   */
  public record Entry(String name, String description, SampleWithArguments sample) {

    /**
     * An entry for a sample that takes no arguments; further arguments are ignored.
     *
     * @param name        the name given on the command line
     * @param description what the sample shows, in one line
     * @param sample      the sample
     */
    public Entry(String name, String description, Sample sample) {
      this(name, description, (args, out) -> sample.run(out));
    }
  }

  /**
   * {@return every sample, in the order they are listed}
   */
  public static List<Entry> samples() {
    return SAMPLES;
  }

  /**
   * Runs the sample named by the first argument and exits with a non-zero status when it is unknown
   * or fails.
   *
   * @param args the sample name, then the sample's own arguments
   */
  public static void main(String[] args) {
    int status = run(args, System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  /**
   * Runs the sample named by the first argument, or lists the samples.
   *
   * @param args the command-line arguments: the sample name first
   * @param out  where the sample and the list are printed
   * @param err  where an unknown name, the list that follows it, and a failure are printed
   * @return the exit status: 0 when the sample ran or no name (or {@code --help}) was given,
   *     {@value #EXIT_UNKNOWN_SAMPLE} for an unknown name, {@value #EXIT_BAD_ARGUMENTS} when the sample refused
   *     its arguments, {@value #EXIT_FAILED} when the sample threw
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || HELP.contains(args[0])) {
      usage(out);
      return 0;
    }
    Entry entry = SAMPLES.stream().filter(e -> e.name().equals(args[0])).findFirst().orElse(null);
    if (entry == null) {
      err.println("Unknown sample '" + args[0] + "'.");
      usage(err);
      return EXIT_UNKNOWN_SAMPLE;
    }
    try {
      entry.sample().run(List.of(args).subList(1, args.length), out);
      return 0;
    } catch (BadArgumentsException e) {
      err.println("Sample '" + entry.name() + "': " + e.getMessage() + " (" + entry.description() + ")");
      return EXIT_BAD_ARGUMENTS;
    } catch (Exception e) {
      err.println("Sample '" + entry.name() + "' failed: " + e);
      e.printStackTrace(err);
      return EXIT_FAILED;
    }
  }

  private static void usage(PrintStream out) {
    out.println("Usage: java -jar sagebus-samples.jar SAMPLE [ARGUMENTS]");
    out.println("Samples:");
    int width = SAMPLES.stream().mapToInt(e -> e.name().length()).max().orElse(0);
    for (Entry e : SAMPLES) {
      out.println("  " + e.name() + " ".repeat(width - e.name().length() + 2) + e.description());
    }
  }
}
