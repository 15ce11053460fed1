package io.sagebus.management.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code sagebus} command line: talks to a node's management API
 * ({@link io.sagebus.management.ManagementServer}) and prints readable tables.
 * <pre>
 * java -jar sagebus-cli.jar status
 * java -jar sagebus-cli.jar jobs --url http://127.0.0.1:8089 --token ...
 * java -jar sagebus-cli.jar services
 * java -jar sagebus-cli.jar nodes
 * java -jar sagebus-cli.jar pipelines
 * java -jar sagebus-cli.jar run nightly-report
 * java -jar sagebus-cli.jar cancel shop-job-2
 * java -jar sagebus-cli.jar call profile '"u1"'
 * java -jar sagebus-cli.jar call echo --method add 2 3
 * </pre>
 * Every command takes {@code --url} (default {@value ApiOptions#DEFAULT_URL}) and {@code --token}
 * (default: the environment variable {@code SAGEBUS_TOKEN}). Exit codes: 0 done, 1 the API
 * answered an error or the job did not complete, 2 bad usage, 3 the API could not be reached.
 */
@Command(name = "sagebus", mixinStandardHelpOptions = true, version = "sagebus 0.1.0",
  description = "Watches and drives a Sagebus node through its management API.",
  subcommands = {StatusCommand.class, JobsCommand.class, ServicesCommand.class, NodesCommand.class,
    PipelinesCommand.class, RunCommand.class, CancelCommand.class, CallCommand.class, CommandLine.HelpCommand.class},
  exitCodeListHeading = "%nExit codes:%n",
  exitCodeList = {"0:done", "1:the API answered an error, or the job failed or was cancelled", "2:bad usage",
    "3:the API could not be reached"})
public final class SagebusCli implements Runnable {

  /** Exit code: the API could not be reached. */
  public static final int EXIT_UNREACHABLE = 3;
  /** Exit code: the API answered an error, or the job did not complete. */
  public static final int EXIT_FAILED = 1;

  @Spec
  CommandSpec spec;

  /** Created by picocli. */
  public SagebusCli() {
  }

  /**
   * {@return the command line of the CLI, ready to {@link CommandLine#execute(String...)}}
   */
  public static CommandLine commandLine() {
    return new CommandLine(new SagebusCli());
  }

  /**
   * Runs the CLI and exits with its exit code.
   *
   * @param args the command and its options
   */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** Without a command: explains which ones there are. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
      "Missing command: use status, jobs, services, nodes, pipelines, run NAME, cancel JOB_ID or call SERVICE"
        + " (sagebus help for more)");
  }
}
