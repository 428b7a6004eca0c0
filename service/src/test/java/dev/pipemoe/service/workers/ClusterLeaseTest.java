package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.PipemoeServiceApplication;
import dev.pipemoe.service.TestDatabase;
import dev.pipemoe.service.TestWorker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Two replicas of the service, two application contexts on one database (a schema of their own),
 * and 200 concurrent lease calls from 20 workers, alternating between the replicas, over 100 jobs:
 * every job is assigned exactly once.
 */
class ClusterLeaseTest {

  private static final String SCHEMA = "cluster_" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
  private static final int JOBS = 100;
  private static final int WORKERS = 20;
  private static final int CALLS_PER_WORKER = 10;

  private static ConfigurableApplicationContext first;
  private static ConfigurableApplicationContext second;

  @BeforeAll
  static void startTwoReplicas() {
    first = replica();
    second = replica(); // after the first: Flyway migrates once, the second finds the schema current
  }

  @AfterAll
  static void stop() {
    for (ConfigurableApplicationContext context : new ConfigurableApplicationContext[] {first, second}) {
      if (context != null) {
        context.close();
      }
    }
  }

  @Test
  void everyJobIsAssignedExactlyOnce() throws Exception {
    List<Http> replicas = List.of(http(first), http(second));
    Http admin = replicas.get(0);
    String user = ApiTest.token(admin, "cluster-user", "USER");
    String fleet = ApiTest.token(replicas.get(1), "cluster-fleet", "WORKER");
    Set<String> submitted = new HashSet<>();
    for (int i = 0; i < JOBS; i++) {
      Http.Response r = replicas.get(i % 2).post("/api/v1/jobs").token(user).json(Map.of("name", "cluster-" + i,
          "model", Map.of("moeModelType", "deepspeed_moe", "numExperts", 2), "parallel", Map.of("tensor", 1))).send();
      assertThat(r.status()).as("%s", r).isEqualTo(201);
      submitted.add(r.json().get("id").stringValue());
    }
    List<TestWorker> workers = new ArrayList<>();
    for (int w = 0; w < WORKERS; w++) {
      workers.add(new TestWorker(replicas.get(w % 2), fleet, "cluster-node-" + w, "cpu", 8).register());
    }
    List<Callable<Optional<Assignment>>> calls = new ArrayList<>();
    for (int c = 0; c < WORKERS * CALLS_PER_WORKER; c++) {
      TestWorker worker = workers.get(c % WORKERS).via(replicas.get(c % 2));
      calls.add(() -> worker.lease(Duration.ofSeconds(2)));
    }

    List<Assignment> assignments = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Future<Optional<Assignment>> f : pool.invokeAll(calls)) {
        f.get().ifPresent(assignments::add);
      }
    }

    Map<String, Integer> timesAssigned = new HashMap<>();
    assignments.forEach(a -> timesAssigned.merge(a.jobId(), 1, Integer::sum));
    assertThat(timesAssigned.values()).as("no job handed out twice").allMatch(n -> n == 1);
    assertThat(timesAssigned.keySet()).as("every job handed out").isEqualTo(submitted);
    assertThat(assignments).allSatisfy(a -> assertThat(a.attempt()).isEqualTo(1));
    JdbcTemplate db = first.getBean(JdbcTemplate.class);
    assertThat(db.queryForObject("select count(*) from attempts", Integer.class)).isEqualTo(JOBS);
    assertThat(db.queryForObject("select count(distinct job_id) from attempts", Integer.class)).isEqualTo(JOBS);
    assertThat(db.queryForObject("select count(*) from jobs where state = 'RUNNING' and attempt = 1", Integer.class))
        .isEqualTo(JOBS);
    assertThat(db.queryForObject("select max(n) from (select count(*) as n from attempts a"
        + " group by a.worker_id) per_worker", Integer.class)).as("no worker over its 8 devices").isLessThanOrEqualTo(8);
    assertThat(db.queryForObject("select count(*) from job_events where reason = 'LEASED'", Integer.class))
        .isEqualTo(JOBS);
  }

  private static ConfigurableApplicationContext replica() {
    return new SpringApplicationBuilder(PipemoeServiceApplication.class)
        .run(TestDatabase.serviceArgs(SCHEMA, Map.of("pipemoe.scheduler.poll-interval", "100ms")));
  }

  private static Http http(ConfigurableApplicationContext context) {
    return new Http(Integer.parseInt(context.getEnvironment().getProperty("local.server.port")));
  }
}
