package dev.pipemoe.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/**
 * A worker as it ships: {@code java -jar worker/target/pipemoe-worker.jar} with its WORKER token in
 * {@code PIPEMOE_WORKER_TOKEN}, a name, a spool directory of its own and a free management port.
 * Starting it again keeps the name and the spool, as a node's worker restarts.
 */
final class WorkerProcess {
  static final Path JAR = E2eSystem.ROOT.resolve("worker/target/pipemoe-worker.jar");
  static final Duration START_TIMEOUT = Duration.ofSeconds(120);

  private final String name;
  private final String serviceUrl;
  private final String token;
  private final Path dir;
  private final int port;
  private final Map<String, String> properties;
  private final List<Proc> runs = new ArrayList<>();
  private Proc current;

  WorkerProcess(String name, String serviceUrl, String token, Path dir, int port, Map<String, String> properties) {
    this.name = name;
    this.serviceUrl = serviceUrl;
    this.token = token;
    this.dir = dir;
    this.port = port;
    this.properties = properties;
  }

  String name() {
    return name;
  }

  Path spoolDir() {
    return dir.resolve("spool");
  }

  /** Starts the process; does not wait (see {@link #awaitReady}). */
  WorkerProcess start() {
    List<String> args = new ArrayList<>(List.of("--server.port=" + port,
        "--pipemoe.worker.service-url=" + serviceUrl, "--pipemoe.worker.name=" + name,
        "--pipemoe.worker.spool-dir=" + spoolDir()));
    properties.forEach((k, v) -> args.add("--" + k + "=" + v));
    Map<String, String> env = new HashMap<>();
    env.put("PIPEMOE_WORKER_TOKEN", token);  // as in production: never on the command line
    current = Proc.startJar(name + "-" + (runs.size() + 1), JAR, args, env, dir.resolve("worker.log"));
    runs.add(current);
    return this;
  }

  /** Until readiness is UP: the worker registered with the service. */
  WorkerProcess awaitReady() {
    Proc p = current;
    Await.until(name + " to register (readiness UP)", START_TIMEOUT,
        () -> p.alive() ? readiness() : new Http.Response(-1, "exited: " + p.tail(30)),
        r -> r.status() == 200 || r.status() == -1);
    if (!p.alive()) {
      throw new IllegalStateException(name + " exited during its start:\n" + p.tail(60));
    }
    return this;
  }

  Http.Response readiness() {
    return Http.get(management("/actuator/health/readiness"), null);
  }

  Http.Response liveness() {
    return Http.get(management("/actuator/health/liveness"), null);
  }

  /** One series of the worker's Prometheus scrape, e.g. {@code pipemoe_worker_steps_total}. */
  double metric(String series) {
    String text = Http.get(management("/actuator/prometheus"), null).body();
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).strip());
      }
    }
    throw new IllegalStateException(name + " exports no series " + series);
  }

  /** The spool's record files (one per attempt), without the lock and offsets. */
  List<Path> spoolFiles() {
    if (!Files.isDirectory(spoolDir())) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(spoolDir())) {
      return s.filter(p -> p.getFileName().toString().endsWith(".ndjson")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The records in one spool file (docs/worker.md, "The spool": {@code <job id>.a<attempt>.ndjson},
   * one StepMetrics JSON per line) as "attempt/step/rank" keys; a torn last line (the process died
   * mid-write) is left out, as the worker cuts it off when it reopens the file.
   */
  static Set<String> spooledKeys(Path file) {
    String name = file.getFileName().toString();
    String base = name.substring(0, name.length() - ".ndjson".length());
    int attempt = Integer.parseInt(base.substring(base.lastIndexOf(".a") + 2));
    Set<String> keys = new LinkedHashSet<>();
    try {
      for (String line : Files.readAllLines(file)) {
        try {
          JsonNode r = Http.JSON.readTree(line);
          keys.add(attempt + "/" + r.path("step").asInt() + "/" + r.path("rank").asInt());
        } catch (RuntimeException torn) {
          // only the last line can be torn; the worker drops it too
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return keys;
  }

  /** Complete lines of a spool file after its acknowledged offset (the {@code .acked} file beside it). */
  static long unacknowledged(Path file) {
    String name = file.getFileName().toString();
    Path acked = file.resolveSibling(name.substring(0, name.length() - ".ndjson".length()) + ".acked");
    try {
      long offset = Files.exists(acked) ? Long.parseLong(Files.readString(acked).strip()) : 0;
      byte[] bytes = Files.readAllBytes(file);
      long lines = 0;
      for (int i = (int) offset; i < bytes.length; i++) {
        if (bytes[i] == '\n') {
          lines++;
        }
      }
      return lines;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every file in the spool directory but its lock. */
  List<String> spoolEntries() {
    if (!Files.isDirectory(spoolDir())) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(spoolDir())) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(".lock")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Proc process() {
    return current;
  }

  List<Proc> runs() {
    return List.copyOf(runs);
  }

  boolean alive() {
    return current != null && current.alive();
  }

  /** SIGTERM and wait, as Kubernetes or Ctrl-C stops it; the exit code. */
  int stop() {
    return current.terminate(60);
  }

  private String management(String path) {
    return "http://localhost:" + port + path;
  }

  @Override
  public String toString() {
    return name + (current == null ? "" : " (" + current + ")");
  }
}
