package dev.pipemoe.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start-up cache only costs speed (docs/worker.md, "The start-up cache"): {@code ./pipemoe}
 * with no cache makes one by a training run and starts; with a corrupt cache it still starts, the
 * service's log carries the JVM's reason, and the launcher drops the cache so the next start
 * makes a new one. Its own cache directory ({@code PIPEMOE_AOT_DIR}), data directory and ports.
 */
class StartupCacheIT {
  @TempDir
  Path data;

  @TempDir
  Path caches;

  @Test
  void anAbsentCacheIsMadeAndACorruptOneStillStarts() throws Exception {
    String absent = up("absent");
    assertThat(absent).contains("service: AOT cache written to").contains("worker: AOT cache written to")
        .contains("service: starting with the AOT cache").contains("worker: starting with the AOT cache");
    Path serviceCache = caches.resolve("pipemoe-service/app.aot");
    Path workerCache = caches.resolve("pipemoe-worker/app.aot");
    assertThat(serviceCache).isNotEmptyFile();
    assertThat(workerCache).isNotEmptyFile();

    byte[] garbage = "not an AOT cache\n".repeat(1000).getBytes();
    Files.write(serviceCache, garbage);
    Files.write(workerCache, garbage);
    String corrupt = up("corrupt");
    assertThat(corrupt).doesNotContain("making its AOT cache").contains("service: starting with the AOT cache")
        .contains("service: the JVM could not use the AOT cache").contains("worker: the JVM could not use the AOT cache");
    assertThat(LauncherIT.read(data.resolve("logs/service.log")))
        .contains("An error has occurred while processing the AOT cache");
    assertThat(serviceCache).as("dropped, so that the next start makes a new one").doesNotExist();
    assertThat(workerCache).doesNotExist();
  }

  /** Runs ./pipemoe up until it says it is running (healthy service, live worker), then stops it. */
  private String up(String name) throws Exception {
    Path out = E2eSystem.ROOT.resolve("src-test/target/e2e/StartupCacheIT/" + name + ".out");
    Files.createDirectories(out.getParent());
    ProcessBuilder pb = new ProcessBuilder(E2eSystem.ROOT.resolve("pipemoe").toString())
        .directory(E2eSystem.ROOT.toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
    Map<String, String> env = pb.environment();
    env.put("PIPEMOE_DATA_DIR", data.toString());
    env.put("PIPEMOE_AOT_DIR", caches.toString());
    env.put("PIPEMOE_PORT", Integer.toString(E2eSystem.freePort()));
    env.put("PIPEMOE_WORKER_PORT", Integer.toString(E2eSystem.freePort()));
    env.put("PIPEMOE_CONFIG", data.resolve("config").toString());
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.remove("PIPEMOE_ADMIN_TOKEN");
    Process launcher = pb.start();
    List<ProcessHandle> started = List.of();
    try {
      Await.until("./pipemoe (" + name + " cache) to say it is running", LauncherIT.START,
          () -> launcher.isAlive() ? LauncherIT.read(out) : "exited: " + LauncherIT.read(out),
          s -> s.contains("pipemoe is running") || s.startsWith("exited"));
      assertThat(launcher.isAlive()).as(LauncherIT.read(out)).isTrue();
      started = launcher.descendants().toList();
      launcher.destroy();  // SIGTERM: it stops what it started
      assertThat(launcher.waitFor(90, TimeUnit.SECONDS)).as("the launcher exits").isTrue();
      return LauncherIT.read(out);
    } catch (AssertionError | RuntimeException e) {
      LauncherIT.printLogs(out, data);
      throw e;
    } finally {
      LauncherIT.stop(launcher, started);
    }
  }
}
