package dev.pipemoe.cli;

import java.util.Map;
import picocli.CommandLine;

/** {@code java -jar pipemoe-cli.jar ...}, which {@code ./pipemoe} runs for every command but up and test. */
public final class Main {
  // exit codes (docs/cli.md); 2, for usage errors, is picocli's own (CommandLine.ExitCode.USAGE)
  static final int OK = 0;
  static final int ERROR = 1;
  static final int REFUSED = 3;
  static final int NOT_FOUND = 4;
  static final int JOB_NOT_SUCCEEDED = 5;

  private Main() {}

  public static void main(String[] args) {
    // a terminal only when both ends are one: `pipemoe watch ID | tee log` prints plain lines
    boolean terminal = System.console() != null && System.console().isTerminal();
    CommandLine cl = commandLine(System.getenv(), terminal);
    int code = cl.execute(args);
    cl.getOut().flush();  // picocli flushes on println only, and exit does not flush a writer
    cl.getErr().flush();
    System.exit(code);
  }

  static CommandLine commandLine(Map<String, String> env, boolean terminal) {
    Pipemoe root = new Pipemoe(env, terminal);
    CommandLine cl = new CommandLine(root);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof Api.Failure f) {
        cmd.getErr().println(root.output().json() && f.problem.isObject() ? f.problem.toString() : Problems.format(f));
        return exitCode(f);
      }
      if (e instanceof CommandLine.ParameterException p) {
        throw p;
      }
      cmd.getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return ERROR;
    });
    return cl;
  }

  /** Refused by validation (400 malformed, 413 too large, 422 rules broken): 3; not found: 4; else 1. */
  static int exitCode(Api.Failure f) {
    return switch (f.status) {
      case 400, 413, 422 -> REFUSED;
      case 404 -> NOT_FOUND;
      default -> ERROR;
    };
  }
}
