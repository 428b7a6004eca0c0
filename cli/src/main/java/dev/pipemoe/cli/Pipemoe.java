package dev.pipemoe.cli;

import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The top command: the options every command takes, and where the service and the token come from. */
@Command(name = "pipemoe", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT,
    versionProvider = Pipemoe.Version.class, sortOptions = false,
    description = {"Submit, watch, list, compare and cancel pipemoe jobs through the service's REST API;",
        "predict a job on the simulated device, here, without a service.",
        "The service: --url, else PIPEMOE_URL, else the config file that ./pipemoe up writes, else "
            + Settings.DEFAULT_URL + ". The token: --token, else PIPEMOE_TOKEN, else that file."},
    subcommands = {SubmitCommand.class, WatchCommand.class, JobsCommand.class, GetCommand.class,
        EventsCommand.class, CancelCommand.class, CompareCommand.class, WorkersCommand.class,
        TokenCommand.class, PredictCommand.class, CompletionCommand.class},
    footer = {"%nIn the repository, ./pipemoe (or ./pipemoe up) starts the product,",
        "./pipemoe test runs the tests, and any other first word comes here.",
        "docs/cli.md describes every command."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done; watch: the job SUCCEEDED", "1:an error (the service unreachable, no token, ...)",
        "2:usage: wrong options or arguments", "3:refused by validation (every rule broken is printed)",
        "4:not found (no such job or token, or another owner's job)",
        "5:watch: the job ended FAILED or CANCELLED"})
final class Pipemoe implements Runnable {
  @Option(names = "--url", scope = ScopeType.INHERIT, paramLabel = "URL", description = "the service, e.g. http://localhost:8080")
  String url;

  @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN", description = "a bearer token (pmt_...)")
  String token;

  @Option(names = {"-o", "--output"}, scope = ScopeType.INHERIT, paramLabel = "text|json", description = "text for people (default), json for scripts")
  Output.Format format = Output.Format.text;

  @Spec
  CommandSpec spec;

  private final Map<String, String> env;
  private final boolean terminal;

  Pipemoe(Map<String, String> env, boolean terminal) {
    this.env = env;
    this.terminal = terminal;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  Settings settings() {
    return Settings.resolve(url, token, env);
  }

  /** The API as a user: needs a token. */
  Api api() {
    Settings s = settings();
    return new Api(s.url(), require(s.token(), "--token, PIPEMOE_TOKEN or token= in " + s.file()));
  }

  /** The API as an admin, for token administration. */
  Api adminApi() {
    Settings s = settings();
    return new Api(s.url(), require(s.adminToken(), "--token, PIPEMOE_ADMIN_TOKEN or admin-token= in " + s.file()));
  }

  private static String require(String token, String where) {
    if (token == null) {
      throw new IllegalStateException("no token: give one with " + where
          + " (./pipemoe up writes that file for its session)");
    }
    return token;
  }

  Output output() {
    int columns = 100;
    try {
      String c = env.getOrDefault("PIPEMOE_COLUMNS", env.get("COLUMNS"));
      if (c != null && !c.isBlank()) {
        columns = Integer.parseInt(c.strip());
      }
    } catch (NumberFormatException ignored) {
      // keep the default
    }
    boolean unicode = System.getProperty("stdout.encoding", "").equalsIgnoreCase("UTF-8");
    return new Output(format, terminal, columns, unicode);
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** Prints a JSON answer, pretty, for --output json. */
  void printJson(Object node) {
    out().println(Api.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
    out().flush();
  }

  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Pipemoe.class.getPackage().getImplementationVersion();
      return new String[] {"pipemoe " + (v == null ? "(development build)" : v)};
    }
  }
}
