package dev.pipemoe.worker.engine;

import static dev.pipemoe.worker.engine.ScheduleEquivalenceTest.probe;
import static dev.pipemoe.worker.engine.ScheduleEquivalenceTest.relativeError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.config.MoeShape;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.ImprovedSchedule;
import dev.pipemoe.engine.schedule.MindSpeedSchedule;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.schedule.SerialSchedule;
import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import dev.pipemoe.engine.train.Probe;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The equivalence of {@link ScheduleEquivalenceTest} on random small shapes: sizes that are not
 * powers of two, capacities that N does not divide, GELU and SwiGLU, both wire dtypes.
 */
class RandomShapesEquivalenceTest {

  record Case(LayerShape shape, Schedule schedule) {
    @Override
    public String toString() {
      return shape + " " + schedule.name();
    }
  }

  static Case randomCase(SplittableRandom r) {
    int tp = Gen.oneOf(r, 1, 2);
    int ep = Gen.oneOf(r, 1, 2, 4);
    int data = ep * (tp * ep < 4 ? Gen.oneOf(r, 1, 2) : 1);
    int local = Gen.intIn(r, 1, 3);
    int experts = ep * local;
    int topK = experts == 1 ? 1 : Gen.oneOf(r, 1, 2);
    boolean sp = tp > 1 && r.nextBoolean();
    int tokens = Gen.intIn(r, 3, 23);
    int capacity = (int) MoeShape.capacity(tokens, experts, topK, Gen.doubleIn(r, 0.5, 2.0),
        Gen.intIn(r, 1, 4));
    int hidden = Gen.intIn(r, 1, 12);
    int ffn = tp * Gen.intIn(r, 1, 10);
    DType wire = Gen.chance(r, 0.25) ? DType.BF16 : DType.F32;
    LayerShape shape = new LayerShape(tokens, hidden, ffn, experts, topK, capacity, tp, data, ep,
        sp, r.nextBoolean(), wire, Gen.oneOf(r, 0.0, 0.01));
    int n = Gen.intIn(r, 1, Math.min(4, capacity));
    boolean ms = sp && r.nextBoolean();
    Schedule schedule = r.nextBoolean() ? new MindSpeedSchedule(ms, n)
        : new ImprovedSchedule(ms, n, Gen.intIn(r, 1, Math.min(4, capacity)), Gen.intIn(r, 1, 3));
    return new Case(shape, schedule);
  }

  @Test
  void everyScheduleEqualsSerialOnRandomShapes() {
    Property.forAll(120, RandomShapesEquivalenceTest::randomCase, c -> {
      List<Probe> expected = probe(c.shape(), new SerialSchedule());
      List<Probe> actual = probe(c.shape(), c.schedule());
      // bf16 on the wire: serial and pipelined round the same activations, but mindspeed also
      // rounds every slice's weight gradient (its per-chunk cast and add)
      double tolerance = c.shape().wire() == DType.BF16 ? 2e-2 : ScheduleEquivalenceTest.TOLERANCE;
      for (int rank = 0; rank < expected.size(); rank++) {
        Probe e = expected.get(rank);
        Probe a = actual.get(rank);
        assertThat(relativeError(a.output(), e.output())).isLessThanOrEqualTo(tolerance);
        assertThat(relativeError(a.inputGrad(), e.inputGrad())).isLessThanOrEqualTo(tolerance);
        for (String p : e.grads().keySet()) {
          assertThat(relativeError(a.grads().get(p), e.grads().get(p))).as(p)
              .isLessThanOrEqualTo(tolerance);
        }
      }
    });
  }
}
