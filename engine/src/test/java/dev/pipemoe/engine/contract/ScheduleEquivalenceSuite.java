package dev.pipemoe.engine.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.config.MoeShape;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.ImprovedSchedule;
import dev.pipemoe.engine.schedule.MindSpeedSchedule;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.schedule.SerialSchedule;
import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import dev.pipemoe.engine.train.Probe;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every pipe-experts schedule computes what the serial one computes: the layer output, the input
 * gradient and every weight gradient, on every rank, over the matrix (TP, EP) x SP x multi-stream
 * x N in 1..4 x top-1/top-2, with distinct expert weights, on every {@code Device}: a subclass
 * names the fabric (the simulated device with numerics here, the native runtime in worker).
 *
 * <p>Tolerance: max-norm relative error {@value #TOLERANCE} in fp32. Forward values are computed
 * row by row in both, so they agree to GEMM rounding; gradients sum the same terms in another order
 * (per slice, per chunk), which moves the last bits.
 */
public abstract class ScheduleEquivalenceSuite {
  static final double TOLERANCE = 2e-5;
  private final Map<String, List<Probe>> serial = new HashMap<>();

  /** A fabric of {@code worldSize} ranks whose devices compute values, collectives unmodelled. */
  protected abstract Fabric open(int worldSize);

  /** S = 10 tokens per rank, E = 4, C = 5 with top-2 (slices 2,2,1,0 at N = 4), C = 4 with top-1. */
  static LayerShape shape(int tp, int ep, boolean sp, int topK) {
    int tokens = 10;
    int capacity = (int) MoeShape.capacity(tokens, 4, topK, 1.0, 4);
    return new LayerShape(tokens, 16, 32, 4, topK, capacity, tp, ep, ep, sp, topK == 2,
        DType.F32, 0.01);
  }

  static Stream<Arguments> matrix() {
    List<Arguments> cases = new ArrayList<>();
    int[][] layouts = {{1, 1}, {1, 2}, {2, 2}, {1, 4}, {2, 4}};
    for (int[] layout : layouts) {
      for (boolean sp : new boolean[] {false, true}) {
        if (sp && layout[0] < 2) {
          continue; // SP needs TP >= 2
        }
        for (boolean ms : new boolean[] {false, true}) {
          if (ms && !sp) {
            continue; // V2
          }
          for (int n = 1; n <= 4; n++) {
            for (int topK = 1; topK <= 2; topK++) {
              for (String family : new String[] {"mindspeed", "improved"}) {
                cases.add(Arguments.of(layout[0], layout[1], sp, ms, n, topK, family));
              }
            }
          }
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "tp={0} ep={1} sp={2} ms={3} N={4} top{5} {6}")
  @MethodSource("matrix")
  public void scheduleEqualsSerial(int tp, int ep, boolean sp, boolean ms, int n, int topK,
      String family) {
    LayerShape shape = shape(tp, ep, sp, topK);
    Schedule schedule = family.equals("mindspeed") ? new MindSpeedSchedule(ms, n)
        : new ImprovedSchedule(ms, n, Math.max(1, 5 - n), 1 + n % 2);
    List<Probe> expected = serial.computeIfAbsent(tp + "/" + ep + "/" + sp + "/" + topK,
        k -> probe(shape, new SerialSchedule()));
    List<Probe> actual = probe(shape, schedule);

    for (int r = 0; r < expected.size(); r++) {
      Probe e = expected.get(r);
      Probe a = actual.get(r);
      assertThat(maxAbs(e.output())).as("a layer output of zeros proves nothing").isPositive();
      assertThat(relativeError(a.output(), e.output())).as("output, rank %d", r)
          .isLessThanOrEqualTo(TOLERANCE);
      assertThat(relativeError(a.inputGrad(), e.inputGrad())).as("input grad, rank %d", r)
          .isLessThanOrEqualTo(TOLERANCE);
      assertThat(a.grads().keySet()).isEqualTo(e.grads().keySet());
      for (String p : e.grads().keySet()) {
        assertThat(relativeError(a.grads().get(p), e.grads().get(p))).as("%s, rank %d", p, r)
            .isLessThanOrEqualTo(TOLERANCE);
      }
      assertThat(a.loss()).isCloseTo(e.loss(), org.assertj.core.api.Assertions.within(1e-6));
    }
  }

  List<Probe> probe(LayerShape shape, Schedule schedule) {
    TrainingPlan plan = new TrainingPlan(shape, 1, schedule, 1, 0, 7, 1e-3, true, 1);
    try (Fabric fabric = open(shape.worldSize())) {
      return Trainer.probe(fabric, plan);
    }
  }

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

  /**
   * The same equivalence on random small shapes: sizes that are not powers of two, capacities that
   * N does not divide, GELU and SwiGLU, both wire dtypes.
   */
  @Test
  public void everyScheduleEqualsSerialOnRandomShapes() {
    Property.forAll(120, ScheduleEquivalenceSuite::randomCase, c -> {
      List<Probe> expected = probe(c.shape(), new SerialSchedule());
      List<Probe> actual = probe(c.shape(), c.schedule());
      // bf16 on the wire: serial and pipelined round the same activations, but mindspeed also
      // rounds every slice's weight gradient (its per-chunk cast and add)
      double tolerance = c.shape().wire() == DType.BF16 ? 2e-2 : TOLERANCE;
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

  static double maxAbs(float[] a) {
    double m = 0;
    for (float x : a) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  static double relativeError(float[] a, float[] b) {
    assertThat(a).hasSameSizeAs(b);
    return Probe.relativeError(a, b);
  }
}
