package dev.pipemoe.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.moe.Param;
import dev.pipemoe.engine.moe.RankContext;
import dev.pipemoe.engine.schedule.SerialSchedule;
import dev.pipemoe.engine.sim.HardwareProfile;
import dev.pipemoe.engine.sim.SimFabric;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The MoE block's gradient groups: what the training step all-reduces, and over whom, depends
 * only on these (docs/engine.md, gradient reduction).
 */
class MoeBlockTest {

  /** E = 4, top-2, SwiGLU: 3 matrices per local expert. */
  static LayerShape shape(int tp, int dp, int ep, boolean sp) {
    return new LayerShape(8, 16, 32, 4, 2, 3, tp, dp, ep, sp, true, DType.F32, 0.0);
  }

  /** Rank {@code rank}'s groups as (communicator ranks, parameter names). */
  static List<String> groups(LayerShape shape, int rank) {
    try (SimFabric fabric = new SimFabric(shape.worldSize(), HardwareProfile.load("h100"), false);
        RankContext ctx = new RankContext(fabric.device(rank), shape, false);
        MoeBlock block = new MoeBlock(ctx, 7, 3, new SerialSchedule())) {
      return block.gradGroups().stream()
          .map(g -> g.comm().ranks() + " " + g.params().stream().map(Param::name).toList())
          .toList();
    }
  }

  @Test
  void aloneARankReducesNothing() {
    assertThat(groups(shape(1, 1, 1, false), 0)).isEmpty();
  }

  @Test
  void withoutSpTheRouterIsSummedOverDataRanksAndExpertsOverTheirReplicas() {
    // TP 2, DP 4, EP 2: rank 3 is (d 1, t 1); EP index 1 of data ranks {0, 1}; its experts 2 and 3
    // are also held by data rank 3 (rank 7)
    assertThat(groups(shape(2, 4, 2, false), 3)).containsExactly(
        "[1, 3, 5, 7] [layer3.router]",
        "[3, 7] [layer3.expert2.w1, layer3.expert2.w3, layer3.expert2.w2,"
            + " layer3.expert3.w1, layer3.expert3.w3, layer3.expert3.w2]");
  }

  @Test
  void underSpEveryRankSeesOtherTokensSoTheRouterIsSummedOverAll() {
    assertThat(groups(shape(2, 2, 2, true), 1)).containsExactly(
        "[0, 1, 2, 3] [layer3.router]");
  }

  @Test
  void paramsAreTheRouterThenEveryLocalExpertsMatrices() {
    try (SimFabric fabric = new SimFabric(2, HardwareProfile.load("h100"), false);
        RankContext ctx = new RankContext(fabric.device(1), shape(1, 2, 2, false), false);
        MoeBlock block = new MoeBlock(ctx, 7, 0, new SerialSchedule())) {
      assertThat(block.params()).extracting(Param::name).containsExactly("layer0.router",
          "layer0.expert2.w1", "layer0.expert2.w3", "layer0.expert2.w2", "layer0.expert3.w1",
          "layer0.expert3.w3", "layer0.expert3.w2");
    }
  }
}
