package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.security.Role;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** A job's whole life through the protocol: QUEUED, leased, started, metrics, SUCCEEDED, all of it stored. */
class JobLifecycleTest extends SchedulerTest {

  @Test
  void aJobRunsToSuccessWithEveryMetricStored() {
    String owner = uniqueOwner("life");
    String user = token(owner, Role.USER);
    TestWorker worker = worker(8);
    assertThat(worker.registration().heartbeatInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(worker.registration().leaseTimeout()).isEqualTo(Duration.ofSeconds(30));
    String id = submitId(user, smallJob("life", 4, 6));
    assertThat(state(user, id)).isEqualTo("QUEUED");

    Assignment a = worker.leaseOne();

    assertThat(a.jobId()).isEqualTo(id);
    assertThat(a.attempt()).isEqualTo(1);
    assertThat(a.ranks()).isEqualTo(4);
    assertThat(a.name()).isEqualTo("life");
    assertThat(a.spec().parallel().expert()).isEqualTo(4);
    assertThat(a.spec().training().steps()).isEqualTo(6);
    assertThat(a.spec().pipeExperts()).isNull();
    assertThat(state(user, id)).isEqualTo("RUNNING");
    worker.started(a.ref());
    MetricBatch.Response first = worker.metrics(a.ref(), TestWorker.records(1, 0, 3, 4));
    MetricBatch.Response second = worker.metrics(a.ref(), TestWorker.records(1, 3, 6, 4));
    assertThat(first).isEqualTo(new MetricBatch.Response(12, 0, true));
    assertThat(second).isEqualTo(new MetricBatch.Response(12, 0, true));
    worker.succeeded(a.ref(), 6);

    JsonNode job = job(user, id);
    assertThat(job.get("state").stringValue()).isEqualTo("SUCCEEDED");
    assertThat(job.get("attempt").intValue()).isEqualTo(1);
    assertThat(job.at("/summary/stepsCompleted").intValue()).isEqualTo(6);
    assertThat(job.get("finishedAt")).isNotNull();
    assertThat(reasons(user, id)).containsExactly("SUBMITTED", "LEASED", "STARTED", "SUCCEEDED");
    Integer rows = jdbc.queryForObject("select count(*) from step_metrics where job_id = ?::uuid", Integer.class, id);
    assertThat(rows).isEqualTo(24);
    JsonNode steps = http.get("/api/v1/jobs/" + id + "/metrics").token(user).send().json();
    assertThat(steps.get("steps")).hasSize(6);
    assertThat(steps.at("/steps/0/ranks").intValue()).isEqualTo(4);
    assertThat(steps.at("/steps/5/step").intValue()).isEqualTo(5);
  }
}
