package dev.pipemoe.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's start command: {@code ./pipemoe} brings up the service with its embedded PostgreSQL
 * and a worker, writes the session's tokens and the command line's config file, runs the
 * walk-through's first job with {@code ./pipemoe submit ... --watch}, and on SIGTERM stops
 * everything it started (no JVM, no PostgreSQL left) and removes the config file. Its own data
 * directory, config file and ports, so it touches neither ~/.pipemoe nor ~/.config/pipemoe. (Ctrl-C, SIGINT to the terminal's process group, takes the same
 * path; a test JVM started in the background cannot send it the way a terminal does.)
 */
class LauncherIT {
  static final Duration START = Duration.ofSeconds(240);

  @TempDir
  Path data;

  @Test
  void pipemoeRunsTheFirstJobOfTheWalkThroughAndLeavesNothingBehindOnSigterm() throws Exception {
    int port = E2eSystem.freePort();
    Path out = E2eSystem.ROOT.resolve("src-test/target/e2e/LauncherIT/pipemoe.out");
    Files.createDirectories(out.getParent());
    ProcessBuilder pb = new ProcessBuilder(E2eSystem.ROOT.resolve("pipemoe").toString())
        .directory(E2eSystem.ROOT.toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
    Map<String, String> env = pb.environment();
    env.put("PIPEMOE_DATA_DIR", data.toString());
    env.put("PIPEMOE_PORT", Integer.toString(port));
    env.put("PIPEMOE_WORKER_PORT", Integer.toString(E2eSystem.freePort()));
    env.put("PIPEMOE_USER", "newcomer");
    Path config = data.resolve("config/pipemoe/config");
    env.put("PIPEMOE_CONFIG", config.toString());
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.remove("PIPEMOE_ADMIN_TOKEN");
    Process launcher = pb.start();
    List<ProcessHandle> started = List.of();
    long postgres = -1;
    try {
      Await.until("./pipemoe to say it is running", START, () -> launcher.isAlive() ? read(out) : "exited: " + read(out),
          s -> s.contains("pipemoe is running") || s.startsWith("exited"));
      assertThat(launcher.isAlive()).as(read(out)).isTrue();
      started = launcher.descendants().toList();
      postgres = Long.parseLong(Files.readAllLines(data.resolve("pg/postmaster.pid")).getFirst().strip());
      assertThat(Files.readString(data.resolve("admin-token")).strip()).hasSizeGreaterThanOrEqualTo(32);

      // the walk-through's first command, with the settings the launcher wrote
      Map<String, String> session = sourced(data.resolve("standalone.env"));
      assertThat(session.get("PIPEMOE_URL")).isEqualTo("http://localhost:" + port);
      assertThat(Files.readString(config)).contains("url=http://localhost:" + port + "\n").containsPattern("\ntoken=pmt_");
      Path cliOut = out.resolveSibling("pipemoe-submit.out");
      ProcessBuilder submit = new ProcessBuilder(E2eSystem.ROOT.resolve("pipemoe").toString(), "submit", "-f",
          "examples/e8-ep4/multi-data-2.json", "--watch")
          .directory(E2eSystem.ROOT.toFile()).redirectErrorStream(true).redirectOutput(cliOut.toFile());
      submit.environment().put("PIPEMOE_CONFIG", config.toString());
      submit.environment().put("JAVA_HOME", System.getProperty("java.home"));
      submit.environment().remove("PIPEMOE_URL");
      submit.environment().remove("PIPEMOE_TOKEN");
      Process cli = submit.start();
      assertThat(cli.waitFor(START.toSeconds(), TimeUnit.SECONDS)).as("./pipemoe submit --watch ends: %s", read(cliOut))
          .isTrue();
      assertThat(cli.exitValue()).as(read(cliOut)).isZero();
      assertThat(read(cliOut)).contains("submitted e8-ep4-multi-data-2").contains("step 20/20")
          .containsPattern("SUCCEEDED, 20 of 20 steps \\(attempt 1, 8 ranks\\)");
      String token = session.get("AUTH").replaceFirst("^Authorization: Bearer ", "");
      String id = read(cliOut).lines().filter(l -> l.startsWith("submitted ")).findFirst().orElseThrow().split(" ")[2];
      assertThat(Http.get(session.get("PIPEMOE_URL") + "/api/v1/jobs/" + id + "/summary", token).json()
          .path("tflopsPerDevice").asDouble()).isPositive();

      launcher.destroy();  // SIGTERM
      assertThat(launcher.waitFor(90, TimeUnit.SECONDS)).as("the launcher exits").isTrue();
      assertThat(launcher.exitValue()).isZero();
      assertThat(read(out)).contains("stopping the worker").contains("stopping the service").contains("stopped; data in");
      assertThat(started).as("the launcher started the service, the worker and tail")
          .hasSizeGreaterThanOrEqualTo(3);
      for (ProcessHandle p : started) {
        assertThat(running(p.pid())).as("%s (%s) after the stop", p.pid(), p.info().commandLine().orElse("?"))
            .isFalse();
      }
      assertThat(running(postgres)).as("the embedded PostgreSQL (pid %d) after the stop", postgres).isFalse();
      assertThat(data.resolve("pg/postmaster.pid")).doesNotExist();
      assertThat(config).as("the config file, whose tokens were revoked").doesNotExist();
    } catch (AssertionError | RuntimeException e) {
      printLogs(out, data);
      throw e;
    } finally {
      stop(launcher, started);
      if (postgres > 0 && running(postgres)) {
        ProcessHandle.of(postgres).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  /** What a failed launcher test needs to be read: the launcher's output and both logs. */
  static void printLogs(Path out, Path data) {
    System.err.println("---- ./pipemoe output:\n" + read(out) + "\n---- service log:\n"
        + tail(data.resolve("logs/service.log")) + "\n---- worker log:\n"
        + tail(data.resolve("logs/worker.log")));
  }

  /** Stops the launcher (SIGTERM, which stops what it started), then anything it left. */
  static void stop(Process launcher, List<ProcessHandle> started) throws InterruptedException {
    if (launcher.isAlive()) {
      launcher.destroy();
      launcher.waitFor(60, TimeUnit.SECONDS);
    }
    started.forEach(ProcessHandle::destroyForcibly);
  }

  /** Alive and not a zombie (where pid 1 does not reap, a dead child lingers as one). */
  static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException gone) {
      return false;
    }
  }

  /** The {@code export NAME=value} lines of standalone.env (values quoted or not). */
  static Map<String, String> sourced(Path file) throws IOException {
    Map<String, String> vars = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      if (line.startsWith("export ")) {
        String[] kv = line.substring("export ".length()).split("=", 2);
        vars.put(kv[0], kv[1].replaceAll("^\"|\"$", ""));
      }
    }
    return vars;
  }

  static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }

  static String tail(Path p) {
    List<String> lines = read(p).lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }
}
