package dev.pipemoe.service.bench;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.TestWorker;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.postgresql.PGConnection;
import tools.jackson.databind.json.JsonMapper;

/**
 * Metric ingest through the API against raw {@code COPY} of the same rows into the same table of
 * the same PostgreSQL, in one run. Not a test: a main, run by hand (docs/benchmarks.md has the
 * command and the results).
 *
 * <p>Each round ingests the rows of one attempt of a 1,024-rank job through POST .../metrics
 * (batches of 512 records, half a step, from {@code --clients} concurrent clients over real HTTP),
 * then COPYs the same rows (another attempt: same table, same key and foreign key) in one stream.
 * Bodies and the COPY text are made before the clock starts, so both sides measure only the
 * service and the database. Warm-up rounds (the JIT compiles the service's hot paths) are not
 * counted; the table gives every round and the median ratio. A last pass sends the API rows again: all duplicates, the cost of a replay.
 *
 * <p>Options: {@code --steps 250 --ranks 1024 --batch 512 --clients 4 --rounds 5 --warmup 2}.
 */
public final class IngestBench {

  private static final JsonMapper JSON = Http.mapper();
  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private static final String COLUMNS = "job_id, attempt, step, rank, step_seconds, compute_busy_seconds,"
      + " ep_busy_seconds, tp_busy_seconds, other_comm_busy_seconds, exposed_comm_seconds, tflops_per_device,"
      + " hardware_tflops_per_device, tokens_per_second, loss, aux_loss, dropped_tokens";

  private IngestBench() {}

  public static void main(String[] args) throws Exception {
    int steps = Integer.parseInt(BenchService.option(args, "--steps", "250"));
    int ranks = Integer.parseInt(BenchService.option(args, "--ranks", "1024"));
    int batch = Integer.parseInt(BenchService.option(args, "--batch", "512"));
    int clients = Integer.parseInt(BenchService.option(args, "--clients", "4"));
    int rounds = Integer.parseInt(BenchService.option(args, "--rounds", "5"));
    int warmup = Integer.parseInt(BenchService.option(args, "--warmup", "2"));
    try (BenchService service = new BenchService(1)) {
      Http http = service.http(0);
      String user = service.token("bench-user", "USER");
      TestWorker worker = new TestWorker(http, service.token("bench-fleet", "WORKER"), "bench-node", "cpu", 65_536)
          .register();
      List<StepMetrics> rows = TestWorker.records(1, 0, steps, ranks);
      System.out.printf(Locale.ROOT, "%d rows per round (%d steps x %d ranks), batches of %d, %d clients%n",
          rows.size(), steps, ranks, batch, clients);
      System.out.println("| round | API rows/s | COPY rows/s | API / COPY |");
      System.out.println("|---|---|---|---|");
      List<Double> ratios = new ArrayList<>();
      Assignment last = null;
      List<byte[]> lastBodies = null;
      for (int round = 1 - warmup; round <= rounds; round++) {
        Assignment api = lease(service, http, user, worker, ranks, "api-" + round);
        Assignment copy = lease(service, http, user, worker, ranks, "copy-" + round);
        List<byte[]> bodies = bodies(api, rows, batch);
        byte[] csv = csv(copy, rows);
        double apiRate = rows.size() / api(service.port(0), worker.id(), bodies, clients, worker);
        double copyRate = rows.size() / copy(service, csv);
        String label = round <= 0 ? "warm-up" : Integer.toString(round);
        System.out.printf(Locale.ROOT, "| %s | %,.0f | %,.0f | %.2f |%n", label, apiRate, copyRate, apiRate / copyRate);
        if (round > 0) {
          ratios.add(apiRate / copyRate);
        }
        last = api;
        lastBodies = bodies;
      }
      double[] sorted = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      System.out.printf(Locale.ROOT, "median API / COPY over %d rounds: %.2f%n", sorted.length,
          sorted[sorted.length / 2]);
      double replay = rows.size() / api(service.port(0), worker.id(), lastBodies, clients, worker);
      System.out.printf(Locale.ROOT, "replay of round %d through the API (all duplicates): %,.0f rows/s%n", rounds,
          replay);
      long stored = service.http(0).get("/api/v1/jobs/" + last.jobId() + "/summary").token(user).send().json()
          .get("stepsDone").longValue();
      System.out.printf(Locale.ROOT, "check: the last API attempt has %d complete steps of %d%n", stored, steps);
    }
  }

  private static Assignment lease(BenchService service, Http http, String user, TestWorker worker, int ranks,
      String name) {
    service.submit(http, user, BenchService.job(name, ranks));
    return worker.leaseOne();
  }

  private static List<byte[]> bodies(Assignment a, List<StepMetrics> rows, int batch) {
    List<byte[]> bodies = new ArrayList<>();
    for (int from = 0; from < rows.size(); from += batch) {
      List<StepMetrics> part = rows.subList(from, Math.min(rows.size(), from + batch));
      bodies.add(JSON.writeValueAsBytes(new MetricBatch.Request(a.jobId(), a.attempt(), part)));
    }
    return bodies;
  }

  /** Seconds to POST every body, {@code clients} at a time; fails on any answer but a full acknowledgement. */
  private static double api(int port, String workerId, List<byte[]> bodies, int clients, TestWorker worker)
      throws Exception {
    URI uri = URI.create("http://localhost:" + port + "/api/v1/workers/" + workerId + "/metrics");
    String token = worker.token();
    AtomicInteger next = new AtomicInteger();
    long started = System.nanoTime();
    try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        done.add(pool.submit(() -> {
          for (int i = next.getAndIncrement(); i < bodies.size(); i = next.getAndIncrement()) {
            HttpRequest request = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bodies.get(i))).build();
            HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200 || !r.body().contains("\"acknowledged\":true")) {
              throw new IllegalStateException("batch " + i + ": " + r.statusCode() + " " + r.body());
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    }
    return (System.nanoTime() - started) / 1e9;
  }

  /** The COPY text of the rows for another attempt: the same values, the same table. */
  private static byte[] csv(Assignment a, List<StepMetrics> rows) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(rows.size() * 200);
    StringBuilder line = new StringBuilder(256);
    for (StepMetrics r : rows) {
      line.setLength(0);
      line.append(a.jobId()).append(',').append(a.attempt()).append(',').append(r.step()).append(',')
          .append(r.rank());
      for (double v : new double[] {r.stepSeconds(), r.computeBusySeconds(), r.epBusySeconds(), r.tpBusySeconds(),
          r.otherCommBusySeconds(), r.exposedCommSeconds(), r.tflopsPerDevice(), r.hardwareTflopsPerDevice(),
          r.tokensPerSecond(), r.loss(), r.auxLoss()}) {
        line.append(',').append(v);
      }
      line.append(',').append(r.droppedTokens()).append('\n');
      out.writeBytes(line.toString().getBytes(StandardCharsets.US_ASCII));
    }
    return out.toByteArray();
  }

  /** Seconds to COPY the text in, on a connection of its own, committed. */
  private static double copy(BenchService service, byte[] csv) throws Exception {
    try (Connection con = DriverManager.getConnection(service.db.url(), service.db.user(), service.db.password())) {
      con.setSchema(service.schema);
      long started = System.nanoTime();
      con.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY step_metrics (" + COLUMNS + ") FROM STDIN (FORMAT csv)",
          new ByteArrayInputStream(csv));
      return (System.nanoTime() - started) / 1e9;
    }
  }
}
