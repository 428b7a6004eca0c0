package dev.pipemoe.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Docker images' start-up cache without Docker (docs/deploy.md, "The images' start-up cache"):
 * the image's steps on this machine. {@code scripts/build-dist.sh}'s extracted form is copied to
 * an {@code /app} of its own, {@code scripts/image-aot.sh} makes the cache there by a training run,
 * and the image's ENTRYPOINT flags start the jar: with {@code -XX:AOTMode=on} (the JVM refuses to
 * start unless it uses the cache), then with a corrupt and with an absent cache, which must still
 * start, the JVM's reason in the log.
 */
class ImageCacheIT {
  static final Duration START = Duration.ofSeconds(180);
  static final String JAVA_HOME = System.getProperty("java.home");

  @TempDir
  Path work;

  @ParameterizedTest
  @ValueSource(strings = {"service", "worker"})
  void theImageMakesItsCacheAndStartsWithItWithoutItAndWithACorruptOne(String name) throws Exception {
    run(List.of("scripts/build-dist.sh"), Map.of("SKIP_PACKAGE", "1"), work.resolve("build-dist.out"));
    Path app = work.resolve("app");
    copyTree(E2eSystem.ROOT.resolve("dist/pipemoe-" + name), app);

    int trainingPort = E2eSystem.freePort();
    String training = run(List.of("scripts/image-aot.sh", name, app.toString()),
        Map.of("PIPEMOE_TRAINING_PORT", Integer.toString(trainingPort)), work.resolve("image-aot.out"));
    Path cache = app.resolve("aot/app.aot");
    assertThat(cache).as(training).isNotEmptyFile();
    try (Stream<Path> files = Files.list(app)) {
      assertThat(files.map(p -> p.getFileName().toString())).as("the image gains the cache only")
          .containsExactlyInAnyOrder("pipemoe-" + name + ".jar", "lib", "aot");
    }

    String used = start(name, app, "used", List.of("-XX:AOTMode=on"));
    assertThat(used).doesNotContain("error has occurred while processing the AOT cache");

    Files.write(cache, "not an AOT cache\n".repeat(1000).getBytes());
    assertThat(start(name, app, "corrupt", List.of()))
        .contains("An error has occurred while processing the AOT cache");

    Files.delete(cache);
    assertThat(start(name, app, "absent", List.of()))
        .contains("An error has occurred while processing the AOT cache");
  }

  /**
   * Starts the jar as the image's ENTRYPOINT does (plus {@code extra} flags) until its health
   * answers 200, stops it; returns its log.
   */
  private String start(String name, Path app, String label, List<String> extra) throws Exception {
    int port = E2eSystem.freePort();
    Path log = work.resolve(name + "-" + label + ".log");
    List<String> command = new ArrayList<>(List.of(JAVA_HOME + "/bin/java"));
    command.addAll(extra);
    command.addAll(List.of("-XX:AOTCache=" + app.resolve("aot/app.aot"), "-jar",
        app.resolve("pipemoe-" + name + ".jar").toString(), "--server.port=" + port));
    String health = "http://127.0.0.1:" + port + "/actuator/health";
    Map<String, String> env;
    if (name.equals("service")) {
      command.add("--spring.profiles.active=standalone");
      env = Map.of("PIPEMOE_DATA_DIR", work.resolve("data").toString(),
          "PIPEMOE_ADMIN_TOKEN", "image-cache-it-admin-token-0123456789");
    } else {
      health += "/liveness";
      command.addAll(List.of("--pipemoe.worker.service-url=http://127.0.0.1:9",
          "--pipemoe.worker.spool-dir=" + work.resolve("spool")));
      env = Map.of("PIPEMOE_WORKER_TOKEN", "image-cache-it");
    }
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    String url = health;
    Process p = pb.start();
    try {
      Await.until(name + " (" + label + " cache) to answer " + url, START,
          () -> p.isAlive() ? Integer.toString(Http.get(url, null).status()) : "exited: " + LauncherIT.tail(log),
          s -> s.equals("200") || s.startsWith("exited"));
      assertThat(p.isAlive()).as(LauncherIT.tail(log)).isTrue();
    } finally {
      p.destroy();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    return LauncherIT.read(log);
  }

  /** Runs a repository script with this JVM's java first on the PATH; asserts it succeeds. */
  private static String run(List<String> command, Map<String, String> env, Path out) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).directory(E2eSystem.ROOT.toFile())
        .redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().putAll(env);
    pb.environment().put("JAVA", JAVA_HOME + "/bin/java");
    pb.environment().put("PATH", JAVA_HOME + "/bin:" + System.getenv("PATH"));
    Process p = pb.start();
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).as(command + " finishes").isTrue();
    assertThat(p.exitValue()).as(command + ":\n" + LauncherIT.read(out)).isZero();
    return LauncherIT.read(out);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Files.copy(p, to.resolve(from.relativize(p).toString()));
      }
    }
  }
}
