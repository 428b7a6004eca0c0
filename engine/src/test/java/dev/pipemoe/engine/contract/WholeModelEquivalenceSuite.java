package dev.pipemoe.engine.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.schedule.ImprovedSchedule;
import dev.pipemoe.engine.schedule.MindSpeedSchedule;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import dev.pipemoe.engine.train.Probe;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The whole model (embeddings, attention, pre-norm MoE blocks, LM head) on every {@code Device}:
 * every MoE schedule gives serial's loss, logits, embedding-output gradient and every gradient, on
 * random small layouts with TP, SP, EP, DP (and CP where the device runs it), recompute on and off;
 * recompute changes nothing; the distributed optimizer trains the same parameters as all-reduce;
 * the same seed gives the same model whatever the layout. A subclass names the fabric.
 *
 * <p>Tolerance: {@value ScheduleEquivalenceSuite#TOLERANCE}, the MoE schedule suite's bound.
 */
public abstract class WholeModelEquivalenceSuite {
  static final double TOLERANCE = ScheduleEquivalenceSuite.TOLERANCE;

  /** A fabric of {@code worldSize} ranks whose devices compute values. */
  protected abstract Fabric open(int worldSize);

  /** Whether the device runs context parallelism (the native CPU runtime refuses it). */
  protected abstract boolean contextParallel();

  List<Probe> probe(TrainingPlan plan, int world) {
    try (Fabric fabric = open(world)) {
      return Trainer.probe(fabric, plan);
    }
  }

  static Schedule randomSchedule(SplittableRandom r, WholeModelCase c) {
    int cap = c.shape().capacity();
    boolean ms = c.sp() && r.nextBoolean();
    int n = Gen.intIn(r, 1, Math.min(4, cap));
    return r.nextBoolean() ? new MindSpeedSchedule(ms, n)
        : new ImprovedSchedule(ms, n, Gen.intIn(r, 1, Math.min(4, cap)), Gen.intIn(r, 1, 3));
  }

  @Test
  public void everyScheduleEqualsSerialInTheWholeModel() {
    Property.forAll(12, r -> {
      WholeModelCase c = WholeModelCase.random(r, contextParallel());
      return c.with(randomSchedule(r, c));
    }, c -> {
      List<Probe> expected = probe(c.with(new dev.pipemoe.engine.schedule.SerialSchedule())
          .plan(), c.world());
      List<Probe> actual = probe(c.plan(), c.world());
      assertSame(expected, actual, TOLERANCE);
    });
  }

  @Test
  public void recomputeChangesNothing() {
    Property.forAll(4, r -> WholeModelCase.random(r, contextParallel()).withRecompute(false),
        c -> assertSame(probe(c.plan(), c.world()), probe(c.withRecompute(true).plan(), c.world()),
            TOLERANCE));
  }

  @Test
  public void distributedOptimizerTrainsTheSameParameters() {
    WholeModelCase c = WholeModelCase.tiny().withLayout(2, 1, 2, 2, true);
    List<Map<String, float[]>> allReduce = parameters(c.plan(2, 1e-2, false), c.world());
    List<Map<String, float[]>> sharded = parameters(
        c.withDistributedOptimizer(true).plan(2, 1e-2, false), c.world());
    List<Map<String, float[]>> initial = parameters(c.plan(0, 1e-2, false), c.world());
    for (int r = 0; r < allReduce.size(); r++) {
      for (var p : allReduce.get(r).entrySet()) {
        assertThat(Probe.relativeError(sharded.get(r).get(p.getKey()), p.getValue()))
            .as("%s, rank %d", p.getKey(), r).isLessThanOrEqualTo(TOLERANCE);
        assertThat(p.getValue()).as("%s moved", p.getKey())
            .isNotEqualTo(initial.get(r).get(p.getKey()));
      }
    }
  }

  @Test
  public void theSameSeedGivesTheSameModelWhateverTheLayout() {
    WholeModelCase one = WholeModelCase.tiny();
    double reference = meanLoss(probe(one.plan(), one.world()));
    WholeModelCase[] others = contextParallel()
        ? new WholeModelCase[] {one.withLayout(2, 1, 1, 1, false), one.withLayout(2, 1, 1, 1, true),
            one.withLayout(1, 2, 1, 1, false), one.withLayout(2, 2, 1, 1, true)}
        : new WholeModelCase[] {one.withLayout(2, 1, 1, 1, false), one.withLayout(2, 1, 1, 1, true)};
    for (WholeModelCase c : others) {
      assertThat(meanLoss(probe(c.plan(), c.world()))).as("%s", c)
          .isCloseTo(reference, org.assertj.core.api.Assertions.within(1e-5 * reference));
    }
  }

  List<Map<String, float[]>> parameters(TrainingPlan plan, int world) {
    try (Fabric fabric = open(world)) {
      return Trainer.parametersAfter(fabric, plan);
    }
  }

  static double meanLoss(List<Probe> probes) {
    return probes.stream().mapToDouble(Probe::loss).average().orElseThrow();
  }

  static void assertSame(List<Probe> expected, List<Probe> actual, double tolerance) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int r = 0; r < expected.size(); r++) {
      Probe e = expected.get(r);
      Probe a = actual.get(r);
      assertThat(ScheduleEquivalenceSuite.maxAbs(e.output())).as("logits of zeros prove nothing")
          .isPositive();
      assertThat(Probe.relativeError(a.output(), e.output())).as("logits, rank %d", r)
          .isLessThanOrEqualTo(tolerance);
      assertThat(Probe.relativeError(a.inputGrad(), e.inputGrad()))
          .as("embedding-output gradient, rank %d", r).isLessThanOrEqualTo(tolerance);
      assertThat(a.grads().keySet()).isEqualTo(e.grads().keySet());
      for (String p : e.grads().keySet()) {
        assertThat(Probe.relativeError(a.grads().get(p), e.grads().get(p))).as("%s, rank %d", p, r)
            .isLessThanOrEqualTo(tolerance);
      }
      assertThat(Math.abs(a.loss() - e.loss())).as("loss, rank %d", r)
          .isLessThanOrEqualTo(tolerance * Math.abs(e.loss()));
    }
  }
}
