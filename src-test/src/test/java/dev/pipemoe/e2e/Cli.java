package dev.pipemoe.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The command line as a user runs it: {@code java -jar cli/target/pipemoe-cli.jar ARGS} as a process,
 * with the service's URL and a token in its environment and no config file, its standard output
 * and error kept apart (under target/e2e/<class>/cli-N.out and .err).
 */
final class Cli {
  static final Path JAR = E2eSystem.ROOT.resolve("cli/target/pipemoe-cli.jar");

  /** What a run left: exit code, standard output, standard error. */
  record Result(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n---- stdout\n" + out + "---- stderr\n" + err;
    }
  }

  private final String url;
  private final String token;
  private final Path dir;
  private int runs;

  Cli(String url, String token, Path dir) {
    this.url = url;
    this.token = token;
    this.dir = dir;
  }

  /** A command started and not awaited yet. */
  final class Running {
    private final Process process;
    private final Path out;
    private final Path err;
    private final String command;

    private Running(Process process, Path out, Path err, String command) {
      this.process = process;
      this.out = out;
      this.err = err;
      this.command = command;
    }

    /** What it printed so far. */
    String out() {
      return read(out);
    }

    /** Waits for the end (at most {@code timeoutSeconds}; killed after that, which fails). */
    Result await(long timeoutSeconds) {
      try {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
          throw new AssertionError("pipemoe " + command + " did not end within " + timeoutSeconds + " s: "
              + new Result(-1, read(out), read(err)));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
        throw new IllegalStateException(e);
      }
      return new Result(process.exitValue(), read(out), read(err));
    }
  }

  /** Runs a command to its end (at most {@code timeoutSeconds}; killed after that, which fails). */
  Result run(long timeoutSeconds, String... args) {
    return start(args).await(timeoutSeconds);
  }

  /** Starts a command; {@link Running#await} waits for it. */
  Running start(String... args) {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR + " is missing: ./mvnw -B -pl src-test -am verify builds it before these tests");
    }
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-jar", JAR.toString()));
    command.addAll(List.of(args));
    int n = ++runs;
    Path out = dir.resolve("cli-" + n + ".out");
    Path err = dir.resolve("cli-" + n + ".err");
    try {
      Files.createDirectories(dir);
      ProcessBuilder pb = new ProcessBuilder(command).directory(E2eSystem.ROOT.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(out.toFile()).redirectError(err.toFile());
      Map<String, String> env = pb.environment();
      env.put("PIPEMOE_URL", url);
      env.put("PIPEMOE_TOKEN", token);
      env.put("PIPEMOE_CONFIG", dir.resolve("no-config").toString());  // never the developer's own
      env.remove("PIPEMOE_ADMIN_TOKEN");
      return new Running(pb.start(), out, err, String.join(" ", args));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }
}
