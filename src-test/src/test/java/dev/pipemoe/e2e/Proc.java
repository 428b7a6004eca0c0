package dev.pipemoe.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A JVM the tests started ({@code java -jar ...} with this test JVM's own java), its output in a
 * log file under target/e2e. Every process is remembered until it exited: a JVM shutdown hook
 * kills what is left, so an aborted run leaves no orphans.
 */
final class Proc {
  private static final Set<Proc> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(p -> p.process.destroyForcibly())));
  }

  private final String name;
  private final Process process;
  private final Path log;

  private Proc(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /** Starts {@code java <jvmArgs> -jar jar <args>} with the extra environment; output to log. */
  static Proc startJar(String name, Path jar, List<String> args, Map<String, String> env, Path log) {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar.toAbsolutePath().normalize() + " is missing: build it first"
          + " (./mvnw -B -pl src-test -am verify builds the service and worker jars before these tests)");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // the jar as shipped; C1 only, because two JVMs starting at once on two shared cores take
    // 15 s each with the full JIT and 5 s with C1 (the steps here wait on the emulated fabric)
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-jar");
    command.add(jar.toString());
    command.addAll(args);
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(env);
      Files.writeString(log, "---- " + name + ": " + String.join(" ", command) + "\n",
          StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      Proc p = new Proc(name, pb.start(), log);
      LIVE.add(p);
      p.process.onExit().thenRun(() -> LIVE.remove(p));
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  Path log() {
    return log;
  }

  String logText() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  /** The last lines of the log, for a failure message. */
  String tail(int lines) {
    List<String> all = logText().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  /** SIGTERM, then waits for the exit (SIGKILL if it does not come in time); the exit code. */
  int terminate(long seconds) {
    process.destroy();
    return waitOrKill(seconds);
  }

  /** SIGKILL: the process gets no chance to clean up; waits for the exit. */
  void kill() {
    process.destroyForcibly();
    waitOrKill(30);
  }

  /** SIGSTOP: the process is frozen (a long GC pause, a hung node) until {@link #resume}. */
  void pause() {
    signal("STOP");
  }

  void resume() {
    signal("CONT");
  }

  /** Whether the process has mapped a file whose path contains {@code part} (a loaded library). */
  boolean maps(String part) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid()), "maps")).contains(part);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the maps of " + name, e);
    }
  }

  private void signal(String sig) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(pid())).inheritIO().start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + sig + " " + pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private int waitOrKill(long seconds) {
    try {
      if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      return -1;
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + ")";
  }
}
