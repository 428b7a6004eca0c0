package dev.pipemoe.worker.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.JobSpec;
import dev.pipemoe.engine.config.MindSpeedArgs;
import dev.pipemoe.engine.config.Validator;
import dev.pipemoe.engine.metrics.Flops;
import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.engine.train.JobRunner;
import dev.pipemoe.nativebridge.NativeFabric;
import dev.pipemoe.worker.client.ProtocolJson;
import dev.pipemoe.worker.spool.Spool;
import dev.pipemoe.worker.spool.SpoolFile;
import dev.pipemoe.worker.system.WorkerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Assignments run on the native engine, without a service: spool records, stops, failures. */
class EngineRunTest {
  /** 4 ranks: TP 2 with SP x DP 2, EP 2, E 4 (2 local experts), pipelined with multi-stream. */
  static final String JOB = "--moe-model-type deepspeed_moe --num-experts 4"
      + " --expert-model-parallel-size 2 --tensor-model-parallel-size 2 --sequence-parallel"
      + " --data-parallel-size 2 --hidden-size 16 --ffn-hidden-size 32 --seq-length 32"
      + " --use-pipe-experts --pipe-experts-multi-stream --pipe-experts-multi-data 2"
      + " --fabric-comm-ratio 1 --moe-aux-loss-coeff 0.01";

  @TempDir
  Path dir;
  SimpleMeterRegistry registry = new SimpleMeterRegistry();
  WorkerMetrics metrics = new WorkerMetrics(registry);
  Spool spool;
  EngineRun engine;

  @BeforeEach
  void open() throws IOException {
    spool = Spool.open(dir, metrics);
    engine = new EngineRun(NativeFabric::open, "cpu", 8, spool, metrics);
  }

  @AfterEach
  void close() throws IOException {
    spool.close();
  }

  static Assignment assignment(String args, int ranks) {
    return new Assignment("job-1", 1, "test", MindSpeedArgs.parse(args), ranks,
        Instant.now().plusSeconds(60));
  }

  static List<StepMetrics> records(SpoolFile f) throws IOException {
    Path data = f.path();
    try (Stream<String> lines = Files.lines(data)) {
      return lines.map(l -> ProtocolJson.read(l, StepMetrics.class)).toList();
    }
  }

  @Test
  void everyRankOfEveryStepIsSpooledAndTheSummaryFollowsFromTheRecords() throws IOException {
    Assignment a = assignment(JOB + " --train-iters 6 --warmup-steps 2", 4);
    SpoolFile f = spool.create(a.ref());
    EngineRun.Result r = engine.run(a, f, new AttemptControl(a.ref()));

    AttemptStatus s = r.status();
    assertThat(s.state()).isEqualTo(AttemptStatus.State.SUCCEEDED);
    assertThat(r.stepsCompleted()).isEqualTo(6);
    List<StepMetrics> recs = records(f);
    assertThat(recs).hasSize(24);
    assertThat(recs.stream().map(m -> m.step() + "/" + m.rank()).distinct()).hasSize(24);
    assertThat(recs).allSatisfy(m -> {
      assertThat(m.step()).isBetween(0, 5);
      assertThat(m.rank()).isBetween(0, 3);
      assertThat(m.stepSeconds()).isPositive();
      assertThat(m.computeBusySeconds()).isPositive().isLessThanOrEqualTo(m.stepSeconds());
      assertThat(m.auxLoss()).isPositive();
      // the split of a real MoE-stack timeline: no attention, MoE compute, parts adding up
      assertThat(m.split().attentionSeconds()).isZero();
      assertThat(m.split().moeComputeSeconds()).isPositive()
          .isLessThanOrEqualTo(m.computeBusySeconds());
      assertThat(m.split().optimizerSeconds()).isPositive();
      assertThat(m.split().totalSeconds()).isCloseTo(m.stepSeconds(), within(1e-12));
    });
    assertThat(registry.get("pipemoe.worker.steps").counter().count()).isEqualTo(6);
    assertThat(registry.get("pipemoe.worker.metric.records.spooled").counter().count())
        .isEqualTo(24);

    // the summary, recomputed another way: from the FLOPs formula and the job's token count
    EngineConfig c = Validator.validate(a.spec()).orThrow();
    Map<Integer, List<StepMetrics>> bySteps = recs.stream()
        .collect(Collectors.groupingBy(StepMetrics::step, TreeMap::new, Collectors.toList()));
    List<List<StepMetrics>> measured = bySteps.entrySet().stream().filter(e -> e.getKey() >= 2)
        .map(Map.Entry::getValue).toList();
    double meanStep = measured.stream().mapToDouble(ranks -> ranks.stream()
        .mapToDouble(StepMetrics::stepSeconds).max().orElseThrow()).average().orElseThrow();
    Flops flops = Flops.perRankStep(JobRunner.shape(c), c.model().numLayers());
    double jobTokens = c.parallel().data() * c.model().microBatchSize() * c.model().seqLength();
    double exposed = measured.stream().mapToDouble(ranks -> ranks.stream()
        .mapToDouble(StepMetrics::exposedCommSeconds).average().orElseThrow()).average()
        .orElseThrow();
    AttemptStatus.Summary sum = s.summary();
    assertThat(sum.stepsCompleted()).isEqualTo(6);
    assertThat(sum.measuredSteps()).isEqualTo(4);
    assertThat(sum.meanStepSeconds()).isCloseTo(meanStep, within(meanStep * 1e-12));
    assertThat(sum.tflopsPerDevice()).isCloseTo(flops.model() / meanStep / 1e12,
        within(sum.tflopsPerDevice() * 1e-9));
    assertThat(sum.hardwareTflopsPerDevice()).isCloseTo(flops.hardware() / meanStep / 1e12,
        within(sum.hardwareTflopsPerDevice() * 1e-9));
    assertThat(sum.tokensPerSecond()).isCloseTo(jobTokens / meanStep,
        within(sum.tokensPerSecond() * 1e-9));
    assertThat(sum.exposedCommShare()).isCloseTo(exposed / meanStep, within(1e-12))
        .isBetween(0.0, 1.0);
    assertThat(sum.finalLoss()).isCloseTo(bySteps.get(5).stream()
        .mapToDouble(StepMetrics::loss).average().orElseThrow(), within(1e-15));
    assertThat(sum.droppedTokens()).isEqualTo(measured.stream().flatMap(List::stream)
        .mapToLong(StepMetrics::droppedTokens).sum());
  }

  @Test
  void aCancelStopsTheRunBetweenStepsWithTheSummarySoFar() throws Exception {
    EngineRun.Result r = stopAfterTwoSteps(AttemptControl.Stop.CANCEL);
    assertThat(r.status().state()).isEqualTo(AttemptStatus.State.CANCELLED);
    assertThat(r.status().reason()).isEqualTo("CANCEL_REQUESTED");
    assertThat(r.status().summary().stepsCompleted()).isEqualTo(r.stepsCompleted());
  }

  @Test
  void aShutdownStopsTheRunBetweenStepsAsAFailureTheServiceRetries() throws Exception {
    EngineRun.Result r = stopAfterTwoSteps(AttemptControl.Stop.SHUTDOWN);
    assertThat(r.status().state()).isEqualTo(AttemptStatus.State.FAILED);
    assertThat(r.status().reason()).isEqualTo("SHUTDOWN");
    assertThat(r.status().summary()).isNull();
  }

  @Test
  void aLostAttemptStopsBetweenStepsAndReportsNothing() throws Exception {
    assertThat(stopAfterTwoSteps(AttemptControl.Stop.LOST).status()).isNull();
  }

  /** Asks the run to stop once two steps are spooled; every step it ran is spooled whole. */
  private EngineRun.Result stopAfterTwoSteps(AttemptControl.Stop stop) throws Exception {
    Assignment a = assignment(JOB + " --train-iters 200", 4);
    SpoolFile f = spool.create(a.ref());
    AttemptControl control = new AttemptControl(a.ref());
    // asks for the stop once two steps are spooled; at the deadline it stops the run anyway and
    // notes how many records it last saw, so that a run that never spools cannot hang the test
    AtomicReference<String> late = new AtomicReference<>();
    Thread watcher = Thread.ofPlatform().start(() -> {
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      long seen;
      while ((seen = f.records()) < 8) {
        if (System.nanoTime() > deadline) {
          late.set("2 min passed with " + seen + " of 8 records spooled");
          break;
        }
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          return;
        }
      }
      control.request(stop);
    });
    EngineRun.Result r = engine.run(a, f, control);
    watcher.interrupt(); // the run may have ended on its own: the watcher has nothing left to wait for
    watcher.join();
    assertThat(late.get()).as("the wait for two spooled steps").isNull();
    assertThat(r.stepsCompleted()).isBetween(2, 199);
    List<StepMetrics> recs = records(f);
    assertThat(recs).hasSize(4 * r.stepsCompleted());
    assertThat(recs.stream().mapToInt(StepMetrics::step).max().orElseThrow())
        .isEqualTo(r.stepsCompleted() - 1);
    return r;
  }

  @Test
  void aStopBeforeTheStartRunsNothing() throws IOException {
    Assignment a = assignment(JOB, 4);
    AttemptControl control = new AttemptControl(a.ref());
    control.request(AttemptControl.Stop.SHUTDOWN);
    EngineRun.Result r = engine.run(a, spool.create(a.ref()), control);
    assertThat(r.stepsCompleted()).isZero();
    assertThat(r.status().reason()).isEqualTo("SHUTDOWN");
  }

  @Test
  void aSpecThisEngineRefusesFailsWithItsRules() throws IOException {
    JobSpec bad = MindSpeedArgs.parse(JOB.replace("--sequence-parallel", ""));
    Assignment a = new Assignment("job-2", 1, "bad", bad, 4, Instant.now());
    EngineRun.Result r = engine.run(a, spool.create(a.ref()), new AttemptControl(a.ref()));
    assertThat(r.status().state()).isEqualTo(AttemptStatus.State.FAILED);
    assertThat(r.status().reason()).isEqualTo("INVALID_SPEC");
    assertThat(r.status().message()).contains("V2").contains("/pipeExperts/multiStream");
  }

  @Test
  void aRankCountOtherThanTheEnginesIsAnInvalidSpec() throws IOException {
    Assignment a = assignment(JOB, 8);
    EngineRun.Result r = engine.run(a, spool.create(a.ref()), new AttemptControl(a.ref()));
    assertThat(r.status().reason()).isEqualTo("INVALID_SPEC");
    assertThat(r.status().message()).contains("8 ranks").contains("derives 4");
  }

  @Test
  void aJobLargerThanTheWorkerOrForOtherDevicesIsADeviceErrorSoAnotherWorkerMayTakeIt()
      throws IOException {
    Assignment a = assignment(JOB, 4);
    EngineRun small = new EngineRun(NativeFabric::open, "cpu", 2, spool, metrics);
    EngineRun.Result r = small.run(a, spool.create(a.ref()), new AttemptControl(a.ref()));
    assertThat(r.status().reason()).isEqualTo("DEVICE_ERROR");
    assertThat(r.status().message()).contains("needs 4 cpu devices; this worker has 2 cpu");

    Assignment npu = assignment(JOB + " --device-type ascend-910c", 4);
    EngineRun.Result r2 = engine.run(npu, spool.create(new AttemptRef("job-1", 2)),
        new AttemptControl(npu.ref()));
    assertThat(r2.status().reason()).isEqualTo("DEVICE_ERROR");
    assertThat(r2.status().message()).contains("ascend-910c");
  }

}
