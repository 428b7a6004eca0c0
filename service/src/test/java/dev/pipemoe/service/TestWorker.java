package dev.pipemoe.service;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.metrics.StepSplit;
import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.engine.protocol.Heartbeat;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.engine.protocol.Register;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import tools.jackson.databind.json.JsonMapper;

/**
 * A worker that speaks the protocol over real HTTP with the engine's protocol records, as the
 * worker daemon does, but runs nothing: the test says what it reports. Every call parses the
 * answer into the protocol's record, so a field the service names differently fails here.
 */
public final class TestWorker {

  private static final JsonMapper JSON = Http.mapper();

  private final Http http;
  private final String token;
  private final String name;
  private final String deviceType;
  private final int devices;
  private String bootId = UUID.randomUUID().toString();
  private Register.Response registration;

  public TestWorker(Http http, String token, String name, String deviceType, int devices) {
    this.http = http;
    this.token = token;
    this.name = name;
    this.deviceType = deviceType;
    this.devices = devices;
  }

  /** The same worker (same registration and boot) talking to another replica. */
  public TestWorker via(Http replica) {
    TestWorker other = new TestWorker(replica, token, name, deviceType, devices);
    other.bootId = bootId;
    other.registration = registration;
    return other;
  }

  public String name() {
    return name;
  }

  public String id() {
    return registration.workerId();
  }

  public String token() {
    return token;
  }

  public Register.Response registration() {
    return registration;
  }

  public TestWorker register() {
    Http.Response r = http.post("/api/v1/workers").token(token)
        .json(new Register.Request(name, bootId, deviceType, devices, List.of("local"), "test-1")).send();
    expect(r, 200);
    registration = JSON.readValue(r.body(), Register.Response.class);
    return this;
  }

  /** A new process under the same name: a new boot id, registered again. */
  public TestWorker restart() {
    bootId = UUID.randomUUID().toString();
    return register();
  }

  public Heartbeat.Response heartbeat(List<AttemptRef> running, int freeDevices) {
    Http.Response r = http.post("/api/v1/workers/" + id() + "/heartbeat").token(token)
        .json(new Heartbeat.Request(running, freeDevices)).send();
    expect(r, 200);
    return JSON.readValue(r.body(), Heartbeat.Response.class);
  }

  /** The worker says it stops. */
  public Http.Response leave() {
    return http.post("/api/v1/workers/" + id() + "/leave").token(token).send();
  }

  public Http.Response leaseRaw(String wait) {
    return http.post("/api/v1/workers/" + id() + "/lease" + (wait == null ? "" : "?wait=" + wait)).token(token).send();
  }

  public Optional<Assignment> lease(Duration wait) {
    Http.Response r = leaseRaw(wait.toString());
    if (r.status() == 204) {
      return Optional.empty();
    }
    expect(r, 200);
    return Optional.of(JSON.readValue(r.body(), Assignment.class));
  }

  public Assignment leaseOne() {
    return lease(Duration.ofSeconds(5)).orElseThrow(() -> new AssertionError(name + " leased nothing in 5 s"));
  }

  public Http.Response status(AttemptRef ref, AttemptStatus status) {
    return http.post("/api/v1/workers/" + id() + "/attempts/" + ref.jobId() + "/" + ref.attempt() + "/status")
        .token(token).json(status).send();
  }

  public void started(AttemptRef ref) {
    expect(status(ref, new AttemptStatus(AttemptStatus.State.STARTED, null, null, null)), 200);
  }

  public void succeeded(AttemptRef ref, int steps) {
    expect(status(ref, new AttemptStatus(AttemptStatus.State.SUCCEEDED, null, "done",
        new AttemptStatus.Summary(steps, steps - 1, 0.5, 10.0, 12.0, 0.2, 1000.0, 1.5, 0))), 200);
  }

  public Http.Response metricsRaw(AttemptRef ref, List<StepMetrics> records) {
    return http.post("/api/v1/workers/" + id() + "/metrics").token(token)
        .json(new MetricBatch.Request(ref.jobId(), ref.attempt(), records)).send();
  }

  public MetricBatch.Response metrics(AttemptRef ref, List<StepMetrics> records) {
    Http.Response r = metricsRaw(ref, records);
    expect(r, 200);
    return JSON.readValue(r.body(), MetricBatch.Response.class);
  }

  /**
   * Deterministic records for steps [from, to) and every rank: values that depend on step, rank and
   * attempt, so that a test can tell attempts and ranks apart and check the aggregates.
   */
  public static List<StepMetrics> records(int attempt, int from, int to, int ranks) {
    List<StepMetrics> records = new ArrayList<>();
    for (int step = from; step < to; step++) {
      for (int rank = 0; rank < ranks; rank++) {
        records.add(record(attempt, step, rank));
      }
    }
    return records;
  }

  public static StepMetrics record(int attempt, int step, int rank) {
    double stepSeconds = 0.1 + 0.01 * rank + 0.001 * step;
    double compute = 0.06 + 0.001 * rank;
    // attention 0.01 and MoE the rest of compute; exposed communication what the other parts leave
    StepSplit split = new StepSplit(0.01, compute - 0.01, stepSeconds - compute - 0.005, 0.002, 0.002, 0.001, 0);
    return new StepMetrics(step, rank, stepSeconds, compute, 0.02, 0.01, 0.0, stepSeconds - compute,
        100.0 * attempt + rank, 110.0 * attempt + rank, 1000.0 + rank, 2.0 - 0.01 * step, 0.01, rank, split);
  }

  private static void expect(Http.Response r, int status) {
    if (r.status() != status) {
      throw new AssertionError("expected " + status + ", got " + r);
    }
  }
}
