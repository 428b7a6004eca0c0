package dev.pipemoe.worker.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.config.MindSpeedArgs;
import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.engine.protocol.AttemptStatus.State;
import dev.pipemoe.engine.protocol.Register;
import dev.pipemoe.worker.WorkerApplication;
import dev.pipemoe.worker.spool.Spool;
import dev.pipemoe.worker.spool.SpoolFile;
import dev.pipemoe.worker.system.WorkerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The whole worker daemon (the Spring Boot app, its loops, the native engine, the spool) against
 * {@link ProtocolStub}, a stand-in for the service's protocol side: lease to final status,
 * cancellation, a lost attempt, a metrics outage, a restart with a full spool, shutdown, a
 * refused token, and the health and Prometheus endpoints.
 */
class WorkerDaemonTest {
  static final String JOB = "--moe-model-type deepspeed_moe --num-experts 4"
      + " --expert-model-parallel-size 2 --tensor-model-parallel-size 2 --sequence-parallel"
      + " --data-parallel-size 2 --hidden-size 16 --ffn-hidden-size 32 --seq-length 32"
      + " --use-pipe-experts --pipe-experts-multi-data 2 --fabric-comm-ratio 1";
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path spoolDir;
  ProtocolStub stub;
  ConfigurableApplicationContext ctx;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void stub() throws IOException {
    stub = new ProtocolStub();
  }

  @AfterEach
  void stop() {
    if (ctx != null) {
      ctx.close();
    }
    stub.close();
  }

  void start(String token) {
    ctx = new SpringApplicationBuilder(WorkerApplication.class).properties(
        "server.port=0",
        "pipemoe.worker.service-url=" + stub.url(),
        "pipemoe.worker.token=" + token,
        "pipemoe.worker.name=test-worker",
        "pipemoe.worker.spool-dir=" + spoolDir,
        "pipemoe.worker.flush-interval=100ms",
        "pipemoe.worker.backoff-base=10ms",
        "pipemoe.worker.backoff-max=200ms",
        "pipemoe.worker.shutdown-grace=20s").run();
  }

  static Assignment job(String id, int steps) {
    return new Assignment(id, 1, id, MindSpeedArgs.parse(JOB + " --train-iters " + steps), 4,
        Instant.now().plusSeconds(30));
  }

  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  HttpResponse<String> get(String path) throws Exception {
    int port = ((WebServerApplicationContext) ctx).getWebServer().getPort();
    return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  ProtocolStub.Received status(AttemptRef ref, State state) {
    return stub.statuses.stream().filter(r -> r.ref().equals(ref) && r.status().state() == state)
        .findFirst().orElseThrow();
  }

  List<String> spoolFiles() throws IOException {
    try (Stream<Path> s = Files.list(spoolDir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(".lock")).toList();
    }
  }

  @Test
  void runsALeasedJobAndReportsSucceededOnlyOnceItsMetricsAreStored() throws Exception {
    start(ProtocolStub.TOKEN);
    Assignment a = job("job-ok", 6);
    stub.queue.add(a);
    await("the job succeeded", () -> stub.states(a.ref()).contains(State.SUCCEEDED));

    assertThat(stub.states(a.ref())).containsExactly(State.STARTED, State.SUCCEEDED);
    ProtocolStub.Received done = status(a.ref(), State.SUCCEEDED);
    assertThat(done.recordsStored()).as("records stored before SUCCEEDED").isEqualTo(6 * 4);
    AttemptStatus.Summary s = done.status().summary();
    assertThat(s.stepsCompleted()).isEqualTo(6);
    assertThat(s.measuredSteps()).isEqualTo(3);
    assertThat(s.tflopsPerDevice()).isPositive();
    assertThat(s.tokensPerSecond()).isPositive();

    Register.Request reg = stub.registrations.getFirst();
    assertThat(reg.name()).isEqualTo("test-worker");
    assertThat(reg.deviceType()).isEqualTo("cpu");
    assertThat(reg.devices()).isEqualTo(8);
    assertThat(reg.fabrics()).containsExactly("local");
    assertThat(reg.bootId()).isNotBlank();
    await("the spool is empty", () -> {
      try {
        return spoolFiles().isEmpty();
      } catch (IOException e) {
        return false;
      }
    });

    HttpResponse<String> ready = get("/actuator/health/readiness");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("\"worker\"").contains("w-1");
    String prom = get("/actuator/prometheus").body();
    assertThat(prom).contains("pipemoe_worker_attempts_total{result=\"succeeded\"} 1.0")
        .contains("pipemoe_worker_steps_total 6.0")
        .contains("pipemoe_worker_metric_records_spooled_total 24.0")
        .contains("pipemoe_worker_metric_records_acked_total 24.0")
        .contains("pipemoe_worker_attempts_running 0.0")
        .contains("pipemoe_worker_spool_size_bytes 0.0")
        .contains("pipemoe_worker_spool_pending_records 0.0")
        .contains("pipemoe_worker_lease_polls_total{result=\"assigned\"} 1.0")
        .contains("pipemoe_worker_heartbeat_failures_total{kind=\"unreachable\"} 0.0")
        .contains("pipemoe_worker_shipping_failures_total{kind=\"server\"} 0.0");
  }

  @Test
  void whileMetricsCannotBeShippedTheySpoolAndTheFinalStatusWaitsForThem() throws Exception {
    stub.metricsDown = true;
    start(ProtocolStub.TOKEN);
    Assignment a = job("job-outage", 5);
    stub.queue.add(a);
    await("several batches failed", () -> stub.metricCalls >= 4);
    assertThat(stub.states(a.ref())).containsExactly(State.STARTED);
    assertThat(stub.storedFor(a.ref())).isZero();

    stub.metricsDown = false;
    await("the job succeeded", () -> stub.states(a.ref()).contains(State.SUCCEEDED));
    assertThat(status(a.ref(), State.SUCCEEDED).recordsStored()).isEqualTo(5 * 4);
    assertThat(get("/actuator/prometheus").body())
        .contains("pipemoe_worker_shipping_failures_total{kind=\"server\"}");
  }

  @Test
  void aCancelStopsTheJobBetweenStepsAndEveryStepItRanIsStored() throws Exception {
    start(ProtocolStub.TOKEN);
    Assignment a = job("job-cancel", 1_000_000);
    stub.queue.add(a);
    await("metrics arrive", () -> stub.storedFor(a.ref()) >= 8);
    stub.cancel.add(a.ref());
    await("the job is cancelled", () -> stub.states(a.ref()).contains(State.CANCELLED));

    ProtocolStub.Received r = status(a.ref(), State.CANCELLED);
    assertThat(r.status().reason()).isEqualTo("CANCEL_REQUESTED");
    int steps = r.status().summary().stepsCompleted();
    assertThat(steps).isBetween(2, 999_999);
    assertThat(r.recordsStored()).isEqualTo(4 * steps);
    assertThat(stub.heartbeats).anySatisfy(h -> assertThat(h.running()).contains(a.ref()))
        .anySatisfy(h -> assertThat(h.freeDevices()).isZero());
  }

  @Test
  void aLostAttemptStopsWithoutAnotherWordAndTheWorkerTakesTheNextJob() throws Exception {
    start(ProtocolStub.TOKEN);
    Assignment a = job("job-lost", 1_000_000);
    stub.queue.add(a);
    await("metrics arrive", () -> stub.storedFor(a.ref()) >= 4);
    stub.lost.add(a.ref());
    Assignment next = job("job-next", 3);
    stub.queue.add(next);
    await("the next job succeeded", () -> stub.states(next.ref()).contains(State.SUCCEEDED));
    assertThat(stub.states(a.ref())).containsExactly(State.STARTED);
    assertThat(get("/actuator/prometheus").body())
        .contains("pipemoe_worker_attempts_total{result=\"lost\"} 1.0");
  }

  @Test
  void onShutdownTheAttemptStopsAndIsReportedForARetryWithItsMetricsShipped() throws Exception {
    start(ProtocolStub.TOKEN);
    Assignment a = job("job-shutdown", 1_000_000);
    stub.queue.add(a);
    await("metrics arrive", () -> stub.storedFor(a.ref()) >= 8);
    ctx.close();
    ctx = null;

    ProtocolStub.Received r = status(a.ref(), State.FAILED);
    assertThat(r.status().reason()).isEqualTo("SHUTDOWN");
    assertThat(stub.states(a.ref())).containsExactly(State.STARTED, State.FAILED);
    assertThat(r.recordsStored() % 4).isZero();
    assertThat(spoolFiles()).isEmpty();
  }

  @Test
  void recordsAnEarlierRunLeftInTheSpoolAreShippedAfterTheStart() throws Exception {
    AttemptRef old = new AttemptRef("job-before-restart", 2);
    try (Spool spool = Spool.open(spoolDir, new WorkerMetrics(new SimpleMeterRegistry()))) {
      SpoolFile f = spool.create(old);
      for (int step = 0; step < 3; step++) {
        for (int rank = 0; rank < 4; rank++) {
          spool.append(f, new dev.pipemoe.engine.metrics.StepMetrics(step, rank, 0.1, 0.05, 0.01,
              0.01, 0, 0.05, 1, 1, 100, 0.5, 0, 0));
        }
      }
    }
    start(ProtocolStub.TOKEN);
    await("the old records are stored", () -> stub.storedFor(old) == 12);
    await("the spool is empty", () -> {
      try {
        return spoolFiles().isEmpty();
      } catch (IOException e) {
        return false;
      }
    });
  }

  @Test
  void aWorkerTheServiceForgotRegistersAgainUnderTheSameBootId() {
    start(ProtocolStub.TOKEN);
    await("registered", () -> stub.registrations.size() == 1 && stub.heartbeats.size() > 1);
    stub.forgetWorker = true;
    await("registered again", () -> stub.registrations.size() == 2);
    assertThat(stub.registrations.get(1).bootId()).isEqualTo(stub.registrations.get(0).bootId());
    assertThat(stub.registrations.get(1).name()).isEqualTo("test-worker");
  }

  @Test
  void aRefusedTokenKeepsTheWorkerUnreadyButAlive() throws Exception {
    start("pmt_not-the-right-one");
    await("registration was refused", () -> {
      try {
        return get("/actuator/health/readiness").body().contains("unauthorized");
      } catch (Exception e) {
        return false;
      }
    });
    HttpResponse<String> ready = get("/actuator/health/readiness");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.body()).contains("PIPEMOE_WORKER_TOKEN");
    assertThat(get("/actuator/health/liveness").statusCode()).isEqualTo(200);
    assertThat(stub.registrations).isEmpty();
  }
}
