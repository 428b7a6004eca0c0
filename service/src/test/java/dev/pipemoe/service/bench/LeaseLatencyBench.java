package dev.pipemoe.service.bench;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.TestWorker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Submit to lease latency: how long a job waits between its 201 and a waiting worker's lease
 * answer. Not a test: a main, run by hand (docs/benchmarks.md has the command and the results).
 *
 * <p>Two replicas of the service share one PostgreSQL. {@code --pollers} long-poll lease calls
 * (wait PT2S, re-issued at once) of one large worker wait while jobs are submitted at {@code
 * --rate} per second (open loop). Two cases: submitted to the replica the worker polls (the
 * in-process signal wakes the call), and submitted to the other replica (the call sees the job on
 * its next look, every poll interval, 1 s by default). Latency counts from the submit's 201 to the
 * lease answer, both read on this JVM's clock; the worker then reports each job done at once.
 *
 * <p>Options: {@code --rate 10 --seconds 30 --pollers 4}.
 */
public final class LeaseLatencyBench {

  private LeaseLatencyBench() {}

  public static void main(String[] args) throws Exception {
    int rate = Integer.parseInt(BenchService.option(args, "--rate", "10"));
    int seconds = Integer.parseInt(BenchService.option(args, "--seconds", "30"));
    int pollers = Integer.parseInt(BenchService.option(args, "--pollers", "4"));
    try (BenchService service = new BenchService(2)) {
      String user = service.token("bench-user", "USER");
      String fleet = service.token("bench-fleet", "WORKER");
      TestWorker worker = new TestWorker(service.http(0), fleet, "bench-node", "cpu", 65_536).register();
      System.out.printf(Locale.ROOT, "%d jobs/s for %d s, %d waiting lease calls of one worker on replica 0%n",
          rate, seconds, pollers);
      System.out.println("| submitted to | jobs | p50 ms | p90 ms | p99 ms | max ms |");
      System.out.println("|---|---|---|---|---|---|");
      run(service, user, worker, 0, rate, 5, pollers, "warm-up (same replica)");
      run(service, user, worker, 0, rate, seconds, pollers, "the worker's replica");
      run(service, user, worker, 1, rate, seconds, pollers, "the other replica");
    }
  }

  private static void run(BenchService service, String user, TestWorker worker, int submitTo, int rate, int seconds,
      int pollers, String label) throws Exception {
    Map<String, Long> accepted = new ConcurrentHashMap<>();
    Map<String, Long> leased = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    Http submitter = service.http(submitTo);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int p = 0; p < pollers; p++) {
        pool.submit(() -> {
          while (!stop.get()) {
            Optional<Assignment> a = worker.lease(Duration.ofSeconds(2));
            long now = System.nanoTime();
            a.ifPresent(assignment -> {
              leased.put(assignment.jobId(), now);
              // done at once: no lease is left to expire into a retry that a later run would lease again
              worker.succeeded(assignment.ref(), 1);
            });
          }
          return null;
        });
      }
      Thread.sleep(500); // the calls are waiting before the first submit
      int total = rate * seconds;
      long interval = TimeUnit.SECONDS.toNanos(1) / rate;
      long start = System.nanoTime();
      for (int i = 0; i < total; i++) {
        long wait = start + i * interval - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        String id = service.submit(submitter, user, BenchService.job("latency-" + i, 1));
        accepted.put(id, System.nanoTime());
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!leased.keySet().containsAll(accepted.keySet()) && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      stop.set(true);
    }
    List<Long> latencies = new ArrayList<>();
    accepted.forEach((id, at) -> {
      Long got = leased.get(id);
      latencies.add(got == null ? Long.MAX_VALUE : Math.max(0, got - at));
    });
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    long missing = latencies.stream().filter(l -> l == Long.MAX_VALUE).count();
    System.out.printf(Locale.ROOT, "| %s | %d%s | %.1f | %.1f | %.1f | %.1f |%n", label, sorted.length,
        missing > 0 ? " (" + missing + " not leased)" : "", ms(BenchService.percentile(sorted, 50)),
        ms(BenchService.percentile(sorted, 90)), ms(BenchService.percentile(sorted, 99)),
        ms(sorted[sorted.length - 1]));
  }

  private static double ms(long nanos) {
    return nanos == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : nanos / 1e6;
  }
}
