package dev.pipemoe.service;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.service.security.Role;

import java.sql.Timestamp;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The base of the scheduling tests: the whole service over real HTTP, like {@link ApiTest}, but in
 * a schema of its own (so no other test's queued jobs are leased), with a {@link TestClock} and
 * short loop intervals. All subclasses share this one context. Before each test every unfinished
 * job of the schema is cancelled, so a test leases only what it submitted.
 */
@Import(TestClock.Config.class)
@TestPropertySource(properties = {
    "pipemoe.scheduler.sweep-interval=100ms",
    "pipemoe.scheduler.poll-interval=200ms",
    "pipemoe.scheduler.heartbeat-interval=1s",
    "pipemoe.scheduler.lease-timeout=30s",
    "pipemoe.scheduler.poll-timeout=5s",
    "pipemoe.metrics.gauge-refresh-interval=100ms",
    "pipemoe.metrics.stream-poll-interval=50ms",
    "pipemoe.metrics.stream-keep-alive=1s",
    "pipemoe.metrics.max-job-series=3"})
public abstract class SchedulerTest extends ApiTest {

  public static final String SCHEMA = "sched_" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);

  @Autowired
  protected TestClock clock;

  @Autowired
  protected JdbcTemplate jdbc;

  @Autowired
  protected MeterRegistry meters;

  @DynamicPropertySource
  static void schema(DynamicPropertyRegistry registry) {
    TestDatabase.registerSchema(registry, SCHEMA);
  }

  @BeforeEach
  protected void emptyQueue() {
    Timestamp now = Timestamp.from(clock.instant());
    jdbc.update("update attempts set state = 'CANCELLED', reason = 'TEST_CLEANUP', finished_at = ?"
        + " where state in ('LEASED', 'RUNNING')", now);
    // by moves the database allows, each with its event (V4__job_state_guard.sql refuses others)
    move("RUNNING", "CANCELLING", now);
    move("CANCELLING", "CANCELLED", now);
    move("QUEUED", "CANCELLED", now);
  }

  private void move(String from, String to, Timestamp now) {
    jdbc.update("""
        with moved as (
            update jobs set state = ?, updated_at = ?, version = version + 1,
                finished_at = case when ? = 'CANCELLED' then ? else finished_at end
            where state = ?
            returning id, attempt)
        insert into job_events (job_id, at, from_state, to_state, reason, message, actor, attempt)
        select id, ?, ?, ?, 'TEST_CLEANUP', 'the next test wants an empty queue', 'test', attempt from moved""",
        to, now, to, now, from, now, from, to);
  }

  /** A job body that needs {@code devices} ranks (tensor 1, data = devices) and runs {@code steps} steps. */
  protected static Map<String, Object> smallJob(String name, int devices, int steps) {
    return Map.of("name", name,
        "model", Map.of("moeModelType", "deepspeed_moe", "numExperts", Math.max(2, devices)),
        "parallel", Map.of("tensor", 1, "expert", devices, "data", devices),
        "training", Map.of("steps", steps, "warmupSteps", Math.min(2, steps - 1)));
  }

  protected String submitId(String token, Object body) {
    return submitted(token, body).get("id").stringValue();
  }

  protected JsonNode job(String token, String id) {
    Http.Response r = http.get("/api/v1/jobs/" + id).token(token).send();
    if (r.status() != 200) {
      throw new AssertionError(r.toString());
    }
    return r.json();
  }

  protected String state(String token, String id) {
    return job(token, id).get("state").stringValue();
  }

  /** A registered worker of its own fleet (owner) and name. */
  protected TestWorker worker(String deviceType, int devices) {
    return new TestWorker(http, token(uniqueOwner("fleet"), Role.WORKER), uniqueOwner("node"), deviceType, devices)
        .register();
  }

  /** A registered cpu worker of its own fleet (owner) and name. */
  protected TestWorker worker(int devices) {
    return worker("cpu", devices);
  }

  /** A started job: its user's token, its id, the worker that leased it and the assignment. */
  protected record Running(String user, String id, TestWorker worker, Assignment a) {}

  /**
   * Submits {@code name} ({@link #smallJob}, {@code devices} ranks, {@code steps} steps) as a new
   * user, and a new cpu worker of {@code devices} devices leases and starts it.
   */
  protected Running running(String name, int devices, int steps) {
    String user = token(uniqueOwner(name), Role.USER);
    String id = submitId(user, smallJob(name, devices, steps));
    TestWorker worker = worker(devices);
    Assignment a = worker.leaseOne();
    worker.started(a.ref());
    return new Running(user, id, worker, a);
  }

  /**
   * Looks at {@code observe} every 20 ms until {@code done} accepts what it saw, and returns that;
   * after {@code timeout} fails naming what it waited for and what it saw last.
   */
  protected static <T> T await(String what, Duration timeout, Supplier<T> observe, Predicate<? super T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T seen = observe.get();
      if (done.test(seen)) {
        return seen;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last saw: " + seen);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what + "; last saw: " + seen);
      }
    }
  }

  /** Waits until the lease sweeper has finished two more passes: one that began after this call. */
  protected void awaitSweeps() {
    double before = counter("pipemoe.lease.sweeps", "outcome", "ok");
    await("two more sweeper passes after " + before, Duration.ofSeconds(10),
        () -> counter("pipemoe.lease.sweeps", "outcome", "ok"), passes -> passes >= before + 2);
  }

  /** A counter's value, summed over all its series with these tags. */
  protected double counter(String name, String... tags) {
    return meters.find(name).tags(tags).counters().stream().mapToDouble(c -> c.count()).sum();
  }
}
