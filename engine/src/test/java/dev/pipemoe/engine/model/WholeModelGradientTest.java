package dev.pipemoe.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.contract.WholeModelCase;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.sim.HardwareProfile;
import dev.pipemoe.engine.sim.SimFabric;
import dev.pipemoe.engine.train.Probe;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole model's backward is the derivative of its loss: for one element of a parameter of
 * every kind (embeddings, attention, norms, router, experts, LM head), a central finite difference
 * of the global mean cross-entropy matches the gradient, summed over replicas as before Adam, on
 * the simulated device with numerics, with TP, SP, EP, DP and CP.
 *
 * <p>A parameter element is nudged on every rank that holds the parameter, at the same local
 * index: for a parameter replicated over ranks that is one shared value, whose derivative is the
 * reduced gradient; for a TP-sharded one the ranks' index i are TP distinct global elements, whose
 * nudges' effects add up, so the expected derivative sums the TP shards' gradients.
 */
class WholeModelGradientTest {
  private static final float EPS = 1e-3f;

  static Stream<Arguments> layouts() {
    WholeModelCase tiny = WholeModelCase.tiny();
    return Stream.of(
        Arguments.of("one rank", tiny),
        Arguments.of("TP 2", tiny.withLayout(2, 1, 1, 1, false)),
        Arguments.of("TP 2 SP, DP 2, EP 2", tiny.withLayout(2, 1, 2, 2, true)),
        Arguments.of("CP 2", tiny.withLayout(1, 2, 1, 1, false)),
        Arguments.of("TP 2 SP, CP 2, EP 2", tiny.withLayout(2, 2, 1, 2, true)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layouts")
  void gradientsAreTheLossDerivative(String name, WholeModelCase c) {
    TrainingPlan plan = c.plan();
    List<Probe> base = probe(plan, c.world(), null, 0, 0f);
    int tp = c.tp();
    List<String> checked = new ArrayList<>();
    for (String param : base.get(0).grads().keySet()) {
      if (!param.startsWith("layer0.") && !param.startsWith("embedding")
          && !param.startsWith("head")) {
        continue;
      }
      int holder = firstHolder(base, param);
      if (holder < 0) {
        continue;
      }
      float[] g = base.get(holder).grads().get(param);
      int index = argMaxAbs(g);
      boolean sharded = tpSharded(param);
      double expected = 0;
      for (int t = 0; t < (sharded ? tp : 1); t++) {
        expected += base.get(holder / tp * tp + t).grads().get(param)[index];
      }
      double up = meanLoss(probe(plan, c.world(), param, index, EPS));
      double down = meanLoss(probe(plan, c.world(), param, index, -EPS));
      double fd = (up - down) / (2 * EPS);
      assertThat(Math.abs(expected)).as("%s: a zero gradient proves nothing", param)
          .isGreaterThan(1e-4);
      assertThat(Math.abs(fd - expected)).as("%s[%d]: finite difference %g vs gradient %g",
          param, index, fd, expected).isLessThanOrEqualTo(0.05 * Math.abs(expected) + 2e-4);
      checked.add(param);
    }
    assertThat(checked).as("every kind of parameter is checked")
        .anyMatch(p -> p.startsWith("embedding.tokens"))
        .anyMatch(p -> p.startsWith("embedding.positions"))
        .anyMatch(p -> p.endsWith("attention.wq")).anyMatch(p -> p.endsWith("attention.wo"))
        .anyMatch(p -> p.endsWith("attention.norm")).anyMatch(p -> p.endsWith("moe-norm"))
        .anyMatch(p -> p.endsWith("router")).anyMatch(p -> p.endsWith(".w1"))
        .anyMatch(p -> p.equals("head.weight")).anyMatch(p -> p.equals("head.norm"));
  }

  /** Parameters whose TP ranks hold distinct slices (the others are replicated over TP). */
  static boolean tpSharded(String param) {
    return param.matches(".*\\.(wq|wk|wv|wo|w1|w2|w3)") || param.equals("embedding.tokens")
        || param.equals("head.weight");
  }

  static int firstHolder(List<Probe> probes, String param) {
    for (int r = 0; r < probes.size(); r++) {
      if (probes.get(r).grads().containsKey(param)) {
        return r;
      }
    }
    return -1;
  }

  static int argMaxAbs(float[] g) {
    int best = 0;
    for (int i = 1; i < g.length; i++) {
      if (Math.abs(g[i]) > Math.abs(g[best])) {
        best = i;
      }
    }
    return best;
  }

  /** The global mean cross-entropy: every rank's mean over its tokens, averaged (equal counts). */
  static double meanLoss(List<Probe> probes) {
    return probes.stream().mapToDouble(Probe::loss).average().orElseThrow();
  }

  static List<Probe> probe(TrainingPlan plan, int world, String param, int index, float delta) {
    try (Fabric fabric = new SimFabric(world, HardwareProfile.load("ascend-910c"), true)) {
      return Trainer.probe(fabric, plan, true, (d, p) -> {
        if (p.name().equals(param)) {
          float[] v = d.readFloats(p.value());
          v[index] += delta;
          d.write(p.value(), v);
        }
      });
    }
  }
}
