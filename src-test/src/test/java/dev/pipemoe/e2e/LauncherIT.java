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
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's start command: {@code ./pipemoe} brings up the service with its embedded PostgreSQL
 * and a worker, writes the session's tokens, runs the walk-through's first job, and on SIGTERM
 * stops everything it started: no JVM, no PostgreSQL left. Its own data directory and ports, so
 * it does not touch ~/.pipemoe. (Ctrl-C, SIGINT to the terminal's process group, takes the same
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

      // the walk-through: source standalone.env, submit the first example, wait for its end
      Map<String, String> session = sourced(data.resolve("standalone.env"));
      assertThat(session.get("PIPEMOE_URL")).isEqualTo("http://localhost:" + port);
      String token = session.get("AUTH").replaceFirst("^Authorization: Bearer ", "");
      Http.Response submitted = Http.post(session.get("PIPEMOE_URL") + "/api/v1/jobs", token,
          Files.readString(E2eSystem.ROOT.resolve("examples/e8-ep4/multi-data-2.json")));
      assertThat(submitted.status()).as(submitted.toString()).isEqualTo(201);
      String id = submitted.json().path("id").asString();
      String state = Await.until("the example job to end", START,
          () -> Http.get(session.get("PIPEMOE_URL") + "/api/v1/jobs/" + id, token).json().path("state").asString(),
          s -> Set.of("SUCCEEDED", "FAILED", "CANCELLED").contains(s));
      assertThat(state).isEqualTo("SUCCEEDED");
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
    } catch (AssertionError | RuntimeException e) {
      System.err.println("---- ./pipemoe output:\n" + read(out) + "\n---- service log:\n" + tail(data.resolve("logs/service.log"))
          + "\n---- worker log:\n" + tail(data.resolve("logs/worker.log")));
      throw e;
    } finally {
      if (launcher.isAlive()) {
        launcher.destroy();
        launcher.waitFor(60, TimeUnit.SECONDS);
      }
      started.forEach(ProcessHandle::destroyForcibly);
      if (postgres > 0 && running(postgres)) {
        ProcessHandle.of(postgres).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
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
