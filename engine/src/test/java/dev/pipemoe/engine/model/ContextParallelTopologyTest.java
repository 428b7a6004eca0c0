package dev.pipemoe.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.moe.Topology;
import org.junit.jupiter.api.Test;

/** rank = t + TP·(c + CP·p): the CP ring and the dense group of TP 2, CP 2, DP 2 (EP 2). */
class ContextParallelTopologyTest {

  @Test
  void ranksGroupsAndNames() {
    // rank 6 = t 0 + 2 * (c 1 + 2 * p 1)
    Topology r6 = new Topology(6, 2, 4, 2, 2);
    assertThat(r6.tpIndex()).isZero();
    assertThat(r6.cpIndex()).isEqualTo(1);
    assertThat(r6.dpIndex()).isEqualTo(1);
    assertThat(r6.cpGroup()).containsExactly(4, 6);
    assertThat(r6.denseGroup()).containsExactly(0, 2, 4, 6);
    assertThat(r6.tpGroup()).containsExactly(6, 7);
    assertThat(r6.epGroup()).containsExactly(4, 6); // EP cut from the CP x DP data ranks
    for (int peer : r6.cpGroup()) {
      assertThat(new Topology(peer, 2, 4, 2, 2).cpGroupName()).isEqualTo(r6.cpGroupName());
    }
    assertThat(new Topology(7, 2, 4, 2, 2).cpGroupName()).isNotEqualTo(r6.cpGroupName());
  }

  @Test
  void withoutContextParallelismNothingChanges() {
    Topology t = new Topology(5, 2, 4, 2);
    assertThat(t.context()).isEqualTo(1);
    assertThat(t.cpIndex()).isZero();
    assertThat(t.dpIndex()).isEqualTo(t.dataIndex());
    assertThat(t.cpGroup()).containsExactly(5);
  }

  @Test
  void contextParallelismMustDivideTheDataRanks() {
    assertThatThrownBy(() -> new Topology(0, 2, 3, 1, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CP=2");
  }
}
