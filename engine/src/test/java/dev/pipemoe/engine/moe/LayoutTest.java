package dev.pipemoe.engine.moe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.config.MoeShape;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.schedule.Schedule;
import org.junit.jupiter.api.Test;

class LayoutTest {

  @Test
  void capacityFollowsMindSpeedsFormula() {
    // C = ceil(S/E * f_eff), f_eff = f (top-1) or 2f (top-2), >= min capacity, <= S
    assertThat((int) MoeShape.capacity(512, 4, 1, 1.0, 4)).isEqualTo(128);
    assertThat((int) MoeShape.capacity(512, 4, 2, 1.0, 4)).isEqualTo(256);
    assertThat((int) MoeShape.capacity(100, 8, 2, 1.1, 4)).isEqualTo(28); // ceil(12.5 * 2.2 = 27.5)
    assertThat((int) MoeShape.capacity(16, 64, 1, 1.0, 4)).isEqualTo(4); // min capacity
    assertThat((int) MoeShape.capacity(8, 2, 2, 4.0, 4)).isEqualTo(8); // capped at S
  }

  @Test
  void ranksAreTensorInnermostWithExpertGroupsCutFromData() {
    // TP = 2, DP = 4, EP = 2: rank = d * 2 + t
    Topology r5 = new Topology(5, 2, 4, 2); // d = 2, t = 1
    assertThat(r5.tpIndex()).isEqualTo(1);
    assertThat(r5.dataIndex()).isEqualTo(2);
    assertThat(r5.epIndex()).isEqualTo(0);
    assertThat(r5.tpGroup()).containsExactly(4, 5);
    assertThat(r5.epGroup()).containsExactly(5, 7); // data ranks 2, 3 with t = 1
    assertThat(r5.expertReplicaGroup()).containsExactly(1, 5); // EP index 0, t = 1, both groups
    assertThat(r5.routerGroup(true)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    assertThat(r5.routerGroup(false)).containsExactly(1, 3, 5, 7);
  }

  @Test
  void groupNamesAreEqualOnAllMembers() {
    for (int r = 0; r < 8; r++) {
      Topology t = new Topology(r, 2, 4, 2);
      for (int peer : t.epGroup()) {
        assertThat(new Topology(peer, 2, 4, 2).epGroupName()).isEqualTo(t.epGroupName());
      }
      for (int peer : t.tpGroup()) {
        assertThat(new Topology(peer, 2, 4, 2).tpGroupName()).isEqualTo(t.tpGroupName());
      }
    }
  }

  @Test
  void expertStridedRowsPutLocalExpertIOfEveryRankInOneBlock() {
    // E = 4, EP = 2, L = 2: expert e = j*L + i goes to row i*EP + j
    LayerShape shape = new LayerShape(16, 8, 8, 4, 1, 4, 1, 2, 2, false, false, DType.F32, 0);
    assertThat(Schedule.expertStridedRows(shape)).containsExactly(0, 2, 1, 3);
    assertThat(Schedule.identityRows(shape)).containsExactly(0, 1, 2, 3);
  }

  @Test
  void shapeRejectsWhatTheLayerCannotRun() {
    assertThatThrownBy(() -> new LayerShape(16, 8, 8, 6, 1, 4, 1, 4, 4, false, false, DType.F32,
        0)).hasMessageContaining("EP=4 must divide E=6");
    assertThatThrownBy(() -> new LayerShape(16, 8, 8, 4, 3, 4, 1, 1, 1, false, false, DType.F32,
        0)).hasMessageContaining("top-k must be 1 or 2");
  }

  @Test
  void hostRandomIsAFunctionOfKeyAndIndexOnly() {
    long k = HostRandom.key(42, "w1", 0, 3);
    float[] whole = HostRandom.normalBlock(k, 10, 0, 4, 0, 10, 1.0);
    float[] shard = HostRandom.normalBlock(k, 10, 2, 4, 5, 10, 1.0); // rows 2-3, cols 5-9
    for (int r = 0; r < 2; r++) {
      for (int c = 0; c < 5; c++) {
        assertThat(shard[r * 5 + c]).isEqualTo(whole[(r + 2) * 10 + c + 5]);
      }
    }
    assertThat(HostRandom.key(42, "w1", 0, 3)).isNotEqualTo(HostRandom.key(42, "w1", 0, 2));
  }
}
