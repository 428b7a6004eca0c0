package dev.pipemoe.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.security.Role;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Reading stored metrics: the per-step aggregate, the per-rank view, paging, downsampling and the
 * summary, each against values worked out by hand from {@link TestWorker#record}.
 */
class MetricsReadTest extends SchedulerTest {

  private static final double EPS = 1e-9;

  @Test
  void aStepIsItsSlowestRankWithMeanRatesAndSummedThroughput() {
    Running run = run(4, 10, 10);

    JsonNode step = get(run, "/metrics?pageSize=1&fromStep=3").at("/steps/0");

    assertThat(step.get("attempt").intValue()).isEqualTo(1);
    assertThat(step.get("step").intValue()).isEqualTo(3);
    assertThat(step.get("ranks").intValue()).isEqualTo(4);
    assertThat(step.get("stepSeconds").doubleValue()).isCloseTo(0.1 + 0.03 + 0.003, within(EPS));
    assertThat(step.get("computeBusySeconds").doubleValue()).isCloseTo(0.0615, within(EPS));
    assertThat(step.get("tflopsPerDevice").doubleValue()).isCloseTo(101.5, within(EPS));
    assertThat(step.get("tokensPerSecond").doubleValue()).isCloseTo(4006, within(EPS));
    assertThat(step.get("loss").doubleValue()).isCloseTo(1.97, within(EPS));
    assertThat(step.get("droppedTokens").longValue()).isEqualTo(6);
    // the split's parts are means over ranks: MoE 0.05 + 0.001 x mean rank 1.5; exposed
    // 0.035 + 0.009 x 1.5 + 0.001 x step 3
    assertThat(step.at("/split/attentionSeconds").doubleValue()).isCloseTo(0.01, within(EPS));
    assertThat(step.at("/split/moeComputeSeconds").doubleValue()).isCloseTo(0.0515, within(EPS));
    assertThat(step.at("/split/exposedCommSeconds").doubleValue()).isCloseTo(0.0515, within(EPS));
    assertThat(step.at("/split/idleSeconds").doubleValue()).isZero();
  }

  @Test
  void pagesFollowEachOtherByStep() {
    Running run = run(2, 10, 10);
    List<Integer> seen = new ArrayList<>();
    String from = "0";
    int pages = 0;
    while (from != null) {
      JsonNode page = get(run, "/metrics?pageSize=4&fromStep=" + from);
      page.get("steps").forEach(s -> seen.add(s.get("step").intValue()));
      from = page.has("nextFromStep") ? page.get("nextFromStep").asString() : null;
      pages++;
    }

    assertThat(pages).isEqualTo(3);
    assertThat(seen).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  }

  @Test
  void everyAndPointsDownsampleToRealSteps() {
    Running run = run(2, 10, 10);

    assertThat(steps(get(run, "/metrics?every=3"))).containsExactly(0, 3, 6, 9);
    JsonNode points = get(run, "/metrics?points=4");
    assertThat(points.get("every").intValue()).isEqualTo(3);
    assertThat(steps(points)).containsExactly(0, 3, 6, 9);
    assertThat(steps(get(run, "/metrics?points=100"))).hasSize(10);
  }

  @Test
  void theRankViewShowsEachRanksRecord() {
    Running run = run(2, 10, 10);

    JsonNode page = get(run, "/metrics?view=rank&pageSize=2");
    JsonNode one = get(run, "/metrics?view=rank&rank=1&fromStep=5&pageSize=1");

    assertThat(page.get("records")).hasSize(4);
    assertThat(page.get("nextFromStep").intValue()).isEqualTo(2);
    assertThat(page.at("/records/1/rank").intValue()).isEqualTo(1);
    assertThat(page.at("/records/1/tflopsPerDevice").doubleValue()).isEqualTo(101.0);
    assertThat(one.get("records")).hasSize(1);
    assertThat(one.at("/records/0/step").intValue()).isEqualTo(5);
    assertThat(one.at("/records/0/stepSeconds").doubleValue()).isCloseTo(0.115, within(EPS));
  }

  @Test
  void theSummaryOfAFinishedRun() {
    Running run = run(2, 10, 10);
    run.worker().succeeded(run.a().ref(), 10);

    JsonNode s = get(run, "/summary");

    assertThat(s.get("state").stringValue()).isEqualTo("SUCCEEDED");
    assertThat(s.get("steps").intValue()).isEqualTo(10);
    assertThat(s.get("warmupSteps").intValue()).isEqualTo(2);
    assertThat(s.get("stepsDone").intValue()).isEqualTo(10);
    assertThat(s.get("progress").doubleValue()).isEqualTo(1.0);
    assertThat(s.get("measuredSteps").intValue()).isEqualTo(8);
    assertThat(s.get("tflopsPerDevice").doubleValue()).isCloseTo(100.5, within(EPS));
    assertThat(s.get("tokensPerSecond").doubleValue()).isCloseTo(2001, within(EPS));
    assertThat(s.at("/stepSeconds/mean").doubleValue()).isCloseTo(0.1155, within(EPS));
    assertThat(s.at("/stepSeconds/p50").doubleValue()).isCloseTo(0.115, within(EPS));
    assertThat(s.at("/stepSeconds/p90").doubleValue()).isCloseTo(0.119, within(EPS));
    assertThat(s.at("/stepSeconds/p99").doubleValue()).isCloseTo(0.119, within(EPS));
    assertThat(s.get("exposedCommShare").doubleValue()).isCloseTo(0.8 / 1.768, within(EPS));
    assertThat(s.get("lastLoss").doubleValue()).isCloseTo(1.91, within(EPS));
    // loss 2 - 0.01 step: window min(20, 10/2) = 5, steps 0..4 mean 1.98, steps 5..9 mean 1.93
    assertThat(s.at("/lossTrend/window").intValue()).isEqualTo(5);
    assertThat(s.at("/lossTrend/firstMean").doubleValue()).isCloseTo(1.98, within(EPS));
    assertThat(s.at("/lossTrend/lastMean").doubleValue()).isCloseTo(1.93, within(EPS));
    assertThat(s.get("droppedTokens").longValue()).isEqualTo(10);
    // over the measured steps 2..9 (mean 5.5) and ranks 0, 1: exposed 0.035 + 0.0045 + 0.0055
    assertThat(s.at("/split/exposedCommSeconds").doubleValue()).isCloseTo(0.045, within(EPS));
    assertThat(s.at("/split/moeComputeSeconds").doubleValue()).isCloseTo(0.0505, within(EPS));
    assertThat(s.at("/split/dpReductionSeconds").doubleValue()).isCloseTo(0.002, within(EPS));
    assertThat(s.has("etaSeconds")).isFalse();
    assertThat(s.at("/reported/stepsCompleted").intValue()).isEqualTo(10);
  }

  @Test
  void theSummaryOfARunningJobHasProgressAndAnEta() {
    Running run = run(2, 10, 6);
    run.worker().metrics(run.a().ref(), List.of(TestWorker.record(1, 6, 0))); // step 6 half reported

    JsonNode s = get(run, "/summary");

    assertThat(s.get("stepsDone").intValue()).isEqualTo(6);
    assertThat(s.get("progress").doubleValue()).isCloseTo(0.6, within(EPS));
    assertThat(s.get("etaSeconds").doubleValue()).isCloseTo(4 * 0.1135, within(EPS));
    assertThat(s.get("estimatedFinishAt")).isNotNull();
  }

  @Test
  void badParametersAreNamedAndOtherOwnersJobsAreNotFound() {
    Running run = run(1, 5, 5);
    for (String query : List.of("attempt=2", "attempt=zero", "every=2&points=3", "rank=0", "view=table", "every=0",
        "pageSize=0", "fromStep=-1")) {
      Http.Response r = http.get("/api/v1/jobs/" + run.a().jobId() + "/metrics?" + query).token(run.user()).send();
      assertThat(r.status()).as(query).isEqualTo(400);
      assertThat(r.contentType()).isEqualTo("application/problem+json");
    }
    assertThat(http.get("/api/v1/jobs/" + run.a().jobId() + "/summary?attempt=all").token(run.user()).send().status())
        .isEqualTo(400);
    String stranger = token(uniqueOwner("stranger"), Role.USER);
    assertThat(http.get("/api/v1/jobs/" + run.a().jobId() + "/metrics").token(stranger).send().status()).isEqualTo(404);
    assertThat(http.get("/api/v1/jobs/" + run.a().jobId() + "/summary").token(stranger).send().status()).isEqualTo(404);
    assertThat(http.get("/api/v1/jobs/" + run.a().jobId() + "/metrics").token(ADMIN_TOKEN).send().status())
        .isEqualTo(200);
  }

  @Test
  void aJobThatNeverRanHasNoMetricsYet() {
    String user = token(uniqueOwner("idle"), Role.USER);
    String id = submitId(user, smallJob("idle", 1, 5));

    JsonNode page = http.get("/api/v1/jobs/" + id + "/metrics").token(user).send().json();
    JsonNode summary = http.get("/api/v1/jobs/" + id + "/summary").token(user).send().json();

    assertThat(page.get("steps")).isEmpty();
    assertThat(page.get("attempts")).isEmpty();
    assertThat(summary.get("stepsDone").intValue()).isZero();
    assertThat(summary.get("progress").doubleValue()).isZero();
  }

  /** A running job of {@code ranks} ranks and {@code steps} steps, with its first {@code reported} steps stored. */
  private Running run(int ranks, int steps, int reported) {
    Running run = running("read", ranks, steps);
    run.worker().metrics(run.a().ref(), TestWorker.records(1, 0, reported, ranks));
    return run;
  }

  private JsonNode get(Running run, String path) {
    Http.Response r = http.get("/api/v1/jobs/" + run.a().jobId() + path).token(run.user()).send();
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    return r.json();
  }

  private static List<Integer> steps(JsonNode page) {
    return page.get("steps").valueStream().map(s -> s.get("step").intValue()).toList();
  }
}
