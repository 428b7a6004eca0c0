package dev.pipemoe.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.metrics.StepSplit;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Metric batches: idempotent by (job, attempt, step, rank), validated as a whole, acknowledged once durable. */
class IngestTest extends SchedulerTest {

  @Test
  void aReplayedBatchStoresNothingTwiceAndChangesNothing() {
    Running run = running(4);
    List<StepMetrics> batch = TestWorker.records(1, 0, 5, 4);
    double storedBefore = counter("pipemoe.metric.rows.ingested", "result", "stored");
    double duplicatesBefore = counter("pipemoe.metric.rows.ingested", "result", "duplicate");

    MetricBatch.Response first = run.worker().metrics(run.a().ref(), batch);
    List<Map<String, Object>> stored = rows(run.a().jobId());
    MetricBatch.Response replay = run.worker().metrics(run.a().ref(), batch);
    List<StepMetrics> altered = batch.stream().map(r -> new StepMetrics(r.step(), r.rank(), 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99)).toList();
    MetricBatch.Response conflicting = run.worker().metrics(run.a().ref(), altered);

    assertThat(first).isEqualTo(new MetricBatch.Response(20, 0, true));
    assertThat(replay).isEqualTo(new MetricBatch.Response(0, 20, true));
    assertThat(conflicting).as("the first write wins").isEqualTo(new MetricBatch.Response(0, 20, true));
    assertThat(rows(run.a().jobId())).isEqualTo(stored).hasSize(20);
    assertThat(counter("pipemoe.metric.rows.ingested", "result", "stored")).isEqualTo(storedBefore + 20);
    assertThat(counter("pipemoe.metric.rows.ingested", "result", "duplicate")).isEqualTo(duplicatesBefore + 40);
  }

  @Test
  void anOverlappingBatchStoresOnlyWhatIsNew() {
    Running run = running(2);
    run.worker().metrics(run.a().ref(), TestWorker.records(1, 0, 3, 2));

    MetricBatch.Response r = run.worker().metrics(run.a().ref(), TestWorker.records(1, 2, 6, 2));

    assertThat(r).isEqualTo(new MetricBatch.Response(6, 2, true));
    assertThat(rows(run.a().jobId())).hasSize(12);
  }

  @Test
  void aDuplicateInsideOneBatchCountsAsADuplicate() {
    Running run = running(2);
    List<StepMetrics> batch = new ArrayList<>(TestWorker.records(1, 0, 1, 2));
    batch.add(TestWorker.record(1, 0, 1));

    assertThat(run.worker().metrics(run.a().ref(), batch)).isEqualTo(new MetricBatch.Response(2, 1, true));
  }

  @Test
  void aBatchWithABadRecordStoresNothingAndSaysWhichRecords() {
    Running run = running(2);
    List<StepMetrics> batch = new ArrayList<>(TestWorker.records(1, 0, 2, 2));
    batch.add(TestWorker.record(1, 2, 2)); // rank 2 of a 2-rank attempt
    batch.add(new StepMetrics(-1, 0, 0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));

    Http.Response r = run.worker().metricsRaw(run.a().ref(), batch);

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("errors").valueStream().map(e -> e.get("pointer").stringValue()))
        .containsExactly("/records/4/rank", "/records/5/step");
    assertThat(rows(run.a().jobId())).isEmpty();
  }

  @Test
  void aTooLargeBatchIsRefusedBeforeAnythingIsStored() {
    Running run = running(1);

    Http.Response r = run.worker().metricsRaw(run.a().ref(), TestWorker.records(1, 0, 10_001, 1));

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("detail").stringValue()).contains("at most 10000 records");
  }

  @Test
  void metricsOfAnotherWorkersAttemptOrOfNoJobAreRefused() {
    Running run = running(1);
    TestWorker other = worker(1);

    Http.Response stranger = other.metricsRaw(run.a().ref(), TestWorker.records(1, 0, 1, 1));
    Http.Response noJob = run.worker().metricsRaw(new dev.pipemoe.engine.protocol.AttemptRef("nope", 1),
        TestWorker.records(1, 0, 1, 1));
    Http.Response noAttempt = run.worker().metricsRaw(new dev.pipemoe.engine.protocol.AttemptRef(run.a().jobId(), 2),
        TestWorker.records(1, 0, 1, 1));

    assertThat(stranger.status()).isEqualTo(409);
    assertThat(noJob.status()).isEqualTo(400);
    assertThat(noAttempt.status()).isEqualTo(409);
  }

  @Test
  void theSpoolMayDrainAfterTheFinalReport() {
    Running run = running(1);
    run.worker().succeeded(run.a().ref(), 3);

    assertThat(run.worker().metrics(run.a().ref(), TestWorker.records(1, 0, 3, 1)))
        .isEqualTo(new MetricBatch.Response(3, 0, true));
  }

  @Test
  void theSplitIsStoredAndARecordWithoutOneHasNone() {
    Running run = running(2);
    StepMetrics old = TestWorker.record(1, 0, 1);
    StepMetrics withoutSplit = new StepMetrics(old.step(), old.rank(), old.stepSeconds(), old.computeBusySeconds(),
        old.epBusySeconds(), old.tpBusySeconds(), old.otherCommBusySeconds(), old.exposedCommSeconds(),
        old.tflopsPerDevice(), old.hardwareTflopsPerDevice(), old.tokensPerSecond(), old.loss(), old.auxLoss(),
        old.droppedTokens());

    run.worker().metrics(run.a().ref(), List.of(TestWorker.record(1, 0, 0), withoutSplit));

    List<Map<String, Object>> rows = rows(run.a().jobId());
    StepMetrics sent = TestWorker.record(1, 0, 0);
    assertThat(rows.get(0)).containsEntry("split_attention_seconds", 0.01)
        .containsEntry("split_moe_compute_seconds", sent.split().moeComputeSeconds())
        .containsEntry("split_idle_seconds", 0.0);
    assertThat(rows.get(1).get("split_attention_seconds")).isNull();
    assertThat(rows.get(1).get("split_idle_seconds")).isNull();
  }

  @Test
  void aNegativeOrInfiniteSplitPartRefusesTheBatch() {
    Running run = running(2);
    StepMetrics good = TestWorker.record(1, 0, 0);
    StepMetrics bad = TestWorker.record(1, 0, 1);
    bad = new StepMetrics(bad.step(), bad.rank(), bad.stepSeconds(), bad.computeBusySeconds(), bad.epBusySeconds(),
        bad.tpBusySeconds(), bad.otherCommBusySeconds(), bad.exposedCommSeconds(), bad.tflopsPerDevice(),
        bad.hardwareTflopsPerDevice(), bad.tokensPerSecond(), bad.loss(), bad.auxLoss(), bad.droppedTokens(),
        new StepSplit(0, 0, 0, -0.001, 0, 0, 0));

    Http.Response r = run.worker().metricsRaw(run.a().ref(), List.of(good, bad));

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("errors").valueStream().map(e -> e.get("pointer").stringValue()))
        .containsExactly("/records/1/split");
    assertThat(r.json().at("/errors/0/message").stringValue()).contains("dp_reduction");
    assertThat(rows(run.a().jobId())).isEmpty();
  }

  @Test
  void anEmptyBatchIsAcknowledged() {
    Running run = running(1);

    assertThat(run.worker().metrics(run.a().ref(), List.of())).isEqualTo(new MetricBatch.Response(0, 0, true));
  }

  private Running running(int ranks) {
    return running("ingested", ranks, 50);
  }

  private List<Map<String, Object>> rows(String jobId) {
    return jdbc.queryForList("select * from step_metrics where job_id = ?::uuid order by attempt, step, rank", jobId);
  }
}
