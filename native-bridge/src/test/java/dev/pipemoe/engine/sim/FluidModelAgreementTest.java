package dev.pipemoe.engine.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import dev.pipemoe.nativebridge.NativeLinkModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Link sharing has one definition: the simulated device's {@link FluidModel} and the native
 * runtime's link model ({@code pm_link_model_eval}) give the same flows the same end times.
 */
class FluidModelAgreementTest {

  record Flows(double congestion, double[] bandwidth, double[] latency, double[] arrive,
      double[] bytes, int[][] ranks, int[][] linkSets) {
    @Override
    public String toString() {
      return "congestion " + congestion + ", bandwidth " + Arrays.toString(bandwidth)
          + ", latency " + Arrays.toString(latency) + ", " + arrive.length + " flows";
    }
  }

  static Flows randomFlows(SplittableRandom r) {
    double[] bandwidth = {Gen.doubleIn(r, 1e6, 1e9), Gen.chance(r, 0.2) ? 0 : Gen.doubleIn(r, 1e6, 1e9)};
    double[] latency = {Gen.doubleIn(r, 0, 1e-3), Gen.doubleIn(r, 0, 1e-3)};
    int n = Gen.intIn(r, 1, 12);
    int world = Gen.intIn(r, 2, 6);
    double[] arrive = new double[n];
    double[] bytes = new double[n];
    int[][] ranks = new int[n][];
    int[][] linkSets = new int[n][];
    for (int i = 0; i < n; i++) {
      arrive[i] = Gen.chance(r, 0.3) ? 0 : Gen.doubleIn(r, 0, 0.01);
      bytes[i] = Gen.chance(r, 0.1) ? 0 : Gen.doubleIn(r, 1, 1e6);
      int members = Gen.intIn(r, 1, world);
      int first = Gen.intIn(r, 0, world - members);
      int linkSet = Gen.intIn(r, 0, 1);
      ranks[i] = new int[members];
      linkSets[i] = new int[members];
      for (int m = 0; m < members; m++) {
        ranks[i][m] = first + m;
        linkSets[i][m] = linkSet;
      }
    }
    return new Flows(Gen.oneOf(r, 1.0, 1.25, 1.5), bandwidth, latency, arrive, bytes, ranks,
        linkSets);
  }

  /** The Java model, fed the flows in arrival order as the simulated clock feeds it. */
  static double[] javaEndTimes(Flows f) {
    FluidModel model = new FluidModel(f.congestion(), f.bandwidth());
    Integer[] order = new Integer[f.arrive().length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble(i -> f.arrive()[i]));
    Map<Object, Integer> index = new HashMap<>();
    List<FluidModel.Flow> done = new ArrayList<>();
    for (int i : order) {
      done.addAll(model.advance(f.arrive()[i]));
      double alpha = 0;
      for (int ls : f.linkSets()[i]) {
        alpha = f.bandwidth()[ls] > 0 ? Math.max(alpha, f.latency()[ls]) : alpha;
      }
      Object owner = new Object();
      index.put(owner, i);
      model.add(owner, f.ranks()[i], f.linkSets()[i], f.bytes()[i], alpha);
    }
    done.addAll(model.advance(Double.MAX_VALUE / 4));
    double[] end = new double[order.length];
    for (FluidModel.Flow flow : done) {
      end[index.get(flow.owner())] = flow.endAt();
    }
    return end;
  }

  @Test
  void javaAndNativeModelsGiveTheSameEndTimes() {
    Property.forAll(300, FluidModelAgreementTest::randomFlows, f -> {
      LinkModel lm = new LinkModel(f.congestion(), List.of(
          new LinkModel.Link(0, f.bandwidth()[0], f.latency()[0]),
          new LinkModel.Link(1, f.bandwidth()[1], f.latency()[1])));
      double[] expected = NativeLinkModel.endTimes(lm, f.arrive(), f.bytes(), f.ranks(),
          f.linkSets());
      double[] actual = javaEndTimes(f);
      for (int i = 0; i < expected.length; i++) {
        assertThat(actual[i]).as("flow %d of %s", i, f).isCloseTo(expected[i], within(1e-9));
      }
    });
  }

  @Test
  void twoFlowsSharingALinkWithCongestionStretchEachOther() {
    // alone each takes 1 s; together each moves at B / (2 x 1.5): 3 s
    Flows f = new Flows(1.5, new double[] {100, 0}, new double[] {0, 0}, new double[] {0, 0},
        new double[] {100, 100}, new int[][] {{0, 1}, {0, 2}}, new int[][] {{0, 0}, {0, 0}});
    assertThat(javaEndTimes(f)).containsExactly(new double[] {3.0, 3.0}, within(1e-12));
  }
}
