package dev.pipemoe.worker.daemon;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.engine.protocol.Heartbeat;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.engine.protocol.Register;
import dev.pipemoe.worker.client.ProtocolJson;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for the service's side of docs/worker-protocol.md, in memory, so the worker's loops
 * can be exercised before the real service exists (the end-to-end tests in src-test run against
 * the real one). It checks the bearer token, hands out queued assignments, records statuses with
 * how many of the attempt's records were stored at that moment, stores metrics idempotently, and
 * can be told to answer 503, cancel, or call an attempt lost.
 */
final class ProtocolStub implements AutoCloseable {
  static final String TOKEN = "pmt_test-worker-token";
  private static final Pattern WORKER = Pattern.compile("/api/v1/workers/([^/]+)/(heartbeat|lease|metrics)");
  private static final Pattern STATUS = Pattern.compile("/api/v1/workers/([^/]+)/attempts/([^/]+)/(\\d+)/status");

  /** A status as received, with the attempt's stored records at that moment. */
  record Received(AttemptRef ref, AttemptStatus status, int recordsStored) {}

  record Key(String jobId, int attempt, int step, int rank) {}

  private final HttpServer server;
  final BlockingQueue<Assignment> queue = new LinkedBlockingQueue<>();
  final List<Register.Request> registrations = new CopyOnWriteArrayList<>();
  final List<Heartbeat.Request> heartbeats = new CopyOnWriteArrayList<>();
  final List<Received> statuses = new CopyOnWriteArrayList<>();
  final Map<Key, StepMetrics> stored = new LinkedHashMap<>();
  final Set<AttemptRef> cancel = ConcurrentHashMap.newKeySet();
  final Set<AttemptRef> lost = ConcurrentHashMap.newKeySet();
  volatile boolean metricsDown;
  /** The next heartbeat answers 404, as after the service lost its worker rows. */
  volatile boolean forgetWorker;
  volatile boolean down;
  volatile int metricCalls;

  ProtocolStub() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  synchronized int storedFor(AttemptRef ref) {
    return (int) stored.keySet().stream()
        .filter(k -> k.jobId().equals(ref.jobId()) && k.attempt() == ref.attempt()).count();
  }

  List<AttemptStatus.State> states(AttemptRef ref) {
    List<AttemptStatus.State> out = new ArrayList<>();
    for (Received r : statuses) {
      if (r.ref().equals(ref)) {
        out.add(r.status().state());
      }
    }
    return out;
  }

  private void handle(HttpExchange x) throws IOException {
    try (x) {
      String path = x.getRequestURI().getPath();
      if (!("Bearer " + TOKEN).equals(x.getRequestHeaders().getFirst("Authorization"))) {
        send(x, 401, "{\"title\":\"Unauthorized\",\"status\":401}");
        return;
      }
      if (down) {
        send(x, 503, "{\"title\":\"Service Unavailable\",\"status\":503}");
        return;
      }
      byte[] body = x.getRequestBody().readAllBytes();
      if (path.equals("/api/v1/workers")) {
        registrations.add(ProtocolJson.read(body, Register.Request.class));
        send(x, 200, ProtocolJson.writeString(new Register.Response("w-1",
            Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofMillis(500))));
        return;
      }
      Matcher s = STATUS.matcher(path);
      if (s.matches()) {
        AttemptRef ref = new AttemptRef(s.group(2), Integer.parseInt(s.group(3)));
        if (lost.contains(ref)) {
          send(x, 409, "{\"title\":\"Conflict\",\"status\":409}");
          return;
        }
        statuses.add(new Received(ref, ProtocolJson.read(body, AttemptStatus.class),
            storedFor(ref)));
        send(x, 200, "{}");
        return;
      }
      Matcher w = WORKER.matcher(path);
      if (!w.matches()) {
        send(x, 404, "{\"title\":\"Not Found\",\"status\":404}");
        return;
      }
      switch (w.group(2)) {
        case "heartbeat" -> {
          if (forgetWorker) {
            forgetWorker = false;
            send(x, 404, "{\"title\":\"Not Found\",\"status\":404}");
            return;
          }
          Heartbeat.Request hb = ProtocolJson.read(body, Heartbeat.Request.class);
          heartbeats.add(hb);
          send(x, 200, ProtocolJson.writeString(new Heartbeat.Response(
              hb.running().stream().filter(cancel::contains).toList(),
              hb.running().stream().filter(lost::contains).toList(), null)));
        }
        case "lease" -> {
          Assignment a = queue.poll(300, TimeUnit.MILLISECONDS);
          if (a == null) {
            x.sendResponseHeaders(204, -1);
          } else {
            send(x, 200, ProtocolJson.writeString(a));
          }
        }
        default -> metrics(x, ProtocolJson.read(body, MetricBatch.Request.class));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void metrics(HttpExchange x, MetricBatch.Request batch) throws IOException {
    metricCalls++;
    AttemptRef ref = new AttemptRef(batch.jobId(), batch.attempt());
    if (metricsDown) {
      send(x, 503, "{\"title\":\"Service Unavailable\",\"status\":503}");
      return;
    }
    if (lost.contains(ref)) {
      send(x, 409, "{\"title\":\"Conflict\",\"status\":409}");
      return;
    }
    int fresh = 0;
    synchronized (this) {
      for (StepMetrics m : batch.records()) {
        if (stored.putIfAbsent(new Key(batch.jobId(), batch.attempt(), m.step(), m.rank()), m)
            == null) {
          fresh++;
        }
      }
    }
    send(x, 200, ProtocolJson.writeString(new MetricBatch.Response(fresh,
        batch.records().size() - fresh, true)));
  }

  private static void send(HttpExchange x, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type",
        status >= 400 ? "application/problem+json" : "application/json");
    x.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = x.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
