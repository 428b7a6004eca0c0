package dev.pipemoe.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * One test class's running product: a schema on the test PostgreSQL, the service process, a USER
 * and a WORKER token made through the admin API, and the worker processes the tests start.
 * Registered as an extension ({@code @RegisterExtension static final E2eSystem}), it starts the
 * service before the class, stops workers a test started after that test (SIGTERM, then SIGKILL if
 * needed), stops everything after the class, also when a test failed, and prints the tail of every
 * process's log when one did. Logs: {@code target/e2e/<class>/}.
 */
final class E2eSystem implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback, TestWatcher {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /** Worker settings for quick tests: records leave within 200 ms, retries come fast. */
  static final Map<String, String> WORKER_DEFAULTS = Map.of(
      "pipemoe.worker.devices", "4",
      "pipemoe.worker.flush-interval", "200ms",
      "pipemoe.worker.backoff-base", "100ms",
      "pipemoe.worker.backoff-max", "1s",
      "pipemoe.worker.shutdown-grace", "20s");

  private final Map<String, String> serviceProperties;
  private final List<WorkerProcess> classWorkers = new ArrayList<>();
  private final List<WorkerProcess> testWorkers = new ArrayList<>();
  private boolean inTest;
  private Path logDir;
  private Database db;
  private ServiceProcess service;
  private Api api;
  private String workerToken;
  private String userToken;

  /** {@code serviceProperties}: pipemoe.* settings, e.g. short heartbeats and leases. */
  E2eSystem(Map<String, String> serviceProperties) {
    this.serviceProperties = new LinkedHashMap<>(serviceProperties);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    String name = context.getRequiredTestClass().getSimpleName();
    logDir = ROOT.resolve("src-test/target/e2e").resolve(name);
    deleteTree(logDir);  // logs and spools of an earlier run
    db = Database.newSchema("e2e_" + name);
    String adminToken = HexFormat.of().formatHex(randomBytes());
    service = new ServiceProcess(db, freePort(), adminToken, serviceProperties, logDir);
    try {
      service.start();
      api = new Api(service::url, adminToken);
      userToken = api.createToken("alice", "USER");
      api.useUserToken(userToken);
      workerToken = api.createToken("fleet", "WORKER");
    } catch (RuntimeException | Error e) {
      printLogs("the system did not start");
      throw e;
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    inTest = true;  // after every @BeforeAll: workers started from here on belong to the test
  }

  @Override
  public void afterEach(ExtensionContext context) {
    inTest = false;
    // a job a failed test left running must not be retried onto the next test's workers
    if (service.process().alive()) {
      api.cancelUnfinished();
    }
    boolean stopped = !testWorkers.isEmpty();
    stopAll(testWorkers);
    testWorkers.clear();
    if (stopped && classWorkers.stream().noneMatch(WorkerProcess::alive) && service.process().alive()) {
      // A stopped worker leaves, and the service answers its long poll at once; a killed one
      // cannot, and the service would go on waiting for work on its behalf until the poll times
      // out, leasing the next test's first job to it. Wait until the service holds no request.
      Await.until("the service to let go of the stopped workers' lease polls", Duration.ofSeconds(90),
          () -> api.activeRequests("POST"), n -> n == 0);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    stopAll(classWorkers);
    if (service != null && service.process() != null && service.process().alive()) {
      service.stop();
    }
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    printLogs(context.getDisplayName() + " failed");
  }

  /**
   * Starts a worker and waits until it registered. Called in a test, the worker is stopped after
   * that test; called before the tests (in {@code @BeforeAll}), after the class.
   */
  WorkerProcess worker(String name) {
    return worker(name, workerToken, Map.of()).awaitReady();
  }

  /** Starts a worker without waiting for it: with another token, or other settings. */
  WorkerProcess worker(String name, String token, Map<String, String> properties) {
    Map<String, String> props = new LinkedHashMap<>(WORKER_DEFAULTS);
    props.putAll(properties);
    WorkerProcess w = new WorkerProcess(name, service.url(), token, logDir.resolve(name), freePort(), props);
    (inTest ? testWorkers : classWorkers).add(w);
    return w.start();
  }

  ServiceProcess service() {
    return service;
  }

  Api api() {
    return api;
  }

  Database db() {
    return db;
  }

  String workerToken() {
    return workerToken;
  }

  /** The command line as alice, against this service (its runs' output in the class's log folder). */
  Cli cli() {
    return new Cli(service.url(), userToken, logDir);
  }

  private void printLogs(String why) {
    StringBuilder sb = new StringBuilder("\n==== " + why + ": the processes' last log lines (" + logDir + ")\n");
    List<Proc> procs = new ArrayList<>();
    if (service != null) {
      procs.addAll(service.runs());
    }
    for (WorkerProcess w : allWorkers()) {
      procs.addAll(w.runs());
    }
    for (Proc p : procs) {
      sb.append("---- ").append(p).append(p.alive() ? "" : ", exited").append('\n').append(p.tail(40))
          .append('\n');
    }
    System.err.println(sb);
  }

  private List<WorkerProcess> allWorkers() {
    List<WorkerProcess> all = new ArrayList<>(classWorkers);
    all.addAll(testWorkers);
    return all;
  }

  private static void stopAll(List<WorkerProcess> workers) {
    for (WorkerProcess w : workers) {
      if (w.alive()) {
        w.stop();
      }
    }
  }


  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clear " + dir, e);
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return b;
  }
}
