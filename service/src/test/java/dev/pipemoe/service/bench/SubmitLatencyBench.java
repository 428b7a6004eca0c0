package dev.pipemoe.service.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Submit latency of POST /api/v1/jobs at a steady rate, against a running service. Not a test: a
 * main, run by hand (docs/benchmarks.md has the command and the results).
 *
 * <p>Open loop: request i is due at start + i/rate whether or not earlier ones have answered, and
 * its latency counts from that due time, so a stall shows up in the percentiles instead of
 * silently lowering the rate (no coordinated omission). A warm-up at the same rate runs first and
 * is not counted. Every request is a distinct, valid job (it is stored); anything but 201 is an
 * error. JDK only, so it also runs as a single source file: {@code java SubmitLatencyBench.java}.
 *
 * <p>Options: {@code --url http://localhost:8080 --token $PIPEMOE_ADMIN_TOKEN --rate 50 --seconds 30
 * --warmup-seconds 10}.
 */
public final class SubmitLatencyBench {

  private static final String BODY = """
      {"name": "bench-%d", "model": {"moeModelType": "deepspeed_moe", "numExperts": 8},
       "parallel": {"tensor": 2, "expert": 4, "sequenceParallel": true},
       "pipeExperts": {"enabled": true, "multiStream": true, "multiData": 2}}""";

  private SubmitLatencyBench() {}

  record Result(long latencyNanos, int status) {}

  public static void main(String[] args) throws Exception {
    String url = option(args, "--url", "http://localhost:8080");
    String token = option(args, "--token", System.getenv("PIPEMOE_ADMIN_TOKEN"));
    int rate = Integer.parseInt(option(args, "--rate", "50"));
    int seconds = Integer.parseInt(option(args, "--seconds", "30"));
    int warmup = Integer.parseInt(option(args, "--warmup-seconds", "10"));
    if (token == null) {
      throw new IllegalArgumentException("give --token or set PIPEMOE_ADMIN_TOKEN");
    }
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    System.out.printf("warm-up: %d s at %d/s%n", warmup, rate);
    run(client, url, token, rate, warmup, 0);
    System.out.printf("measuring: %d s at %d/s against %s%n", seconds, rate, url);
    long started = System.nanoTime();
    List<Result> results = run(client, url, token, rate, seconds, 1_000_000);
    double elapsed = (System.nanoTime() - started) / 1e9;
    report(results, rate, seconds, elapsed);
  }

  /** Sends rate x seconds requests on schedule and waits for all answers. */
  private static List<Result> run(HttpClient client, String url, String token, int rate, int seconds, int firstId)
      throws Exception {
    int total = rate * seconds;
    long interval = TimeUnit.SECONDS.toNanos(1) / rate;
    ConcurrentLinkedQueue<Result> results = new ConcurrentLinkedQueue<>();
    List<CompletableFuture<?>> pending = new ArrayList<>(total);
    long start = System.nanoTime();
    for (int i = 0; i < total; i++) {
      long due = start + i * interval;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/api/v1/jobs"))
          .timeout(Duration.ofSeconds(30))
          .header("Authorization", "Bearer " + token)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(BODY.formatted(firstId + i)))
          .build();
      pending.add(client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
          .handle((response, error) -> results.add(new Result(System.nanoTime() - due,
              error != null ? -1 : response.statusCode()))));
    }
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
    return new ArrayList<>(results);
  }

  private static void report(List<Result> results, int rate, int seconds, double elapsed) {
    long[] latencies = results.stream().mapToLong(Result::latencyNanos).sorted().toArray();
    long errors = results.stream().filter(r -> r.status() != 201).count();
    System.out.printf(Locale.ROOT, "requests %d in %.1f s (%.1f/s), errors %d%n", results.size(), elapsed,
        results.size() / elapsed, errors);
    System.out.printf(Locale.ROOT, "latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f%n",
        ms(percentile(latencies, 50)), ms(percentile(latencies, 90)), ms(percentile(latencies, 99)),
        ms(latencies[latencies.length - 1]));
    System.out.printf(Locale.ROOT, "| %d/s | %d s | %d | %d | %.2f | %.2f | %.2f | %.2f |%n", rate, seconds,
        results.size(), errors, ms(percentile(latencies, 50)), ms(percentile(latencies, 90)),
        ms(percentile(latencies, 99)), ms(latencies[latencies.length - 1]));
  }

  /** Nearest-rank percentile of sorted values. */
  static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static String option(String[] args, String name, String fallback) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }
}
