package dev.pipemoe.service.system;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service process killed with SIGKILL leaves its PostgreSQL running. A child JVM plays that
 * service: it starts PostgreSQL on a data directory and is then killed; the next start must find
 * the orphan, stop it, and come up on the same directory.
 */
class OrphanedPostgresTest {

  @TempDir
  Path dir;

  /** The killed service: starts PostgreSQL on args[0], says so, and waits to be killed. */
  public static void main(String[] args) throws Exception {
    EmbeddedPostgres postgres = EmbeddedPostgres.builder().setDataDirectory(Path.of(args[0]))
        .setCleanDataDirectory(false).setRegisterShutdownHook(false).start();
    System.out.println("started " + postgres.getPort());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }

  @Test
  void anOrphanLeftByAKilledServiceIsStoppedBeforeTheNextStart() throws Exception {
    Path data = dir.resolve("pg");
    Process service = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), OrphanedPostgresTest.class.getName(), data.toString())
        .redirectErrorStream(true).start();
    awaitStarted(service, Duration.ofMinutes(2));
    service.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    long orphan = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).getFirst().strip());
    assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive)).contains(true);

    OrphanedPostgres.stopIfAny(data, Duration.ofSeconds(30));

    assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    try (EmbeddedPostgres restarted = EmbeddedPostgres.builder().setDataDirectory(data)
        .setCleanDataDirectory(false).start()) {
      assertThat(restarted.getPort()).isPositive();
    }
  }

  /**
   * Reads the child's output until its "started" line. A reader thread does the blocking reads, so
   * that a child that hangs silently fails the test at {@code timeout}, with the last line it wrote.
   */
  private static void awaitStarted(Process child, Duration timeout) throws Exception {
    AtomicReference<String> last = new AtomicReference<>("nothing");
    CompletableFuture<Boolean> started = CompletableFuture.supplyAsync(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          if (line.startsWith("started")) {
            return true;
          }
          last.set(line); // zonky's log lines
        }
        return false;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, task -> Thread.ofVirtual().start(task));
    try {
      assertThat(started.get(timeout.toSeconds(), TimeUnit.SECONDS))
          .as("the child started PostgreSQL before its output ended; its last line: %s", last.get()).isTrue();
    } catch (TimeoutException e) {
      child.destroyForcibly();
      throw new AssertionError("the child did not start PostgreSQL within " + timeout + "; its last line: "
          + last.get(), e);
    }
  }

  @Test
  void aDirectoryInUseIsLeftAlone() throws Exception {
    Path data = dir.resolve("busy");
    try (EmbeddedPostgres running = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).start()) {
      long pid = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).getFirst().strip());

      OrphanedPostgres.stopIfAny(data, Duration.ofSeconds(5));

      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
    }
  }
}
