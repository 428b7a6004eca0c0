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

  /** Runs a command to its end (at most {@code timeoutSeconds}); the process is killed after that. */
  Result run(long timeoutSeconds, String... args) {
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
      Process p = pb.start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        throw new AssertionError("pipemoe " + String.join(" ", args) + " did not end within " + timeoutSeconds + " s: "
            + new Result(-1, Files.readString(out), Files.readString(err)));
      }
      return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
