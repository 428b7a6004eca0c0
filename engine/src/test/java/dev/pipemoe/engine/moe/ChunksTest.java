package dev.pipemoe.engine.moe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.device.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunksTest {

  static LayerShape shape(int capacity, int experts, int ep) {
    return new LayerShape(64, 8, 16, experts, 2, capacity, 1, ep, ep, false, false, DType.F32,
        0.0);
  }

  @Test
  void ceilSlicingLeavesShortAndEmptyTailsLikeMindSpeed() {
    // pipe_experts.py: c = ceil(C/N); C = 5, N = 4 gives 2, 2, 1, 0
    List<Chunk> chunks = Chunks.ceil(shape(5, 2, 2), 4);
    assertThat(chunks).extracting(Chunk::length).containsExactly(2, 2, 1, 0);
    assertThat(chunks).extracting(Chunk::from).containsExactly(0, 2, 4, 5);
  }

  @Test
  void chunksAreExpertMajor() {
    List<Chunk> chunks = Chunks.ceil(shape(4, 4, 2), 2); // L = 2
    assertThat(chunks).extracting(Chunk::expert).containsExactly(0, 0, 1, 1);
    assertThat(chunks).extracting(Chunk::slice).containsExactly(0, 1, 0, 1);
    assertThat(chunks).extracting(Chunk::index).containsExactly(0, 1, 2, 3);
  }

  @Test
  void balancedSlicesDifferByAtMostOne() {
    assertThat(Chunks.balanced(shape(5, 2, 2), 4)).extracting(Chunk::length)
        .containsExactly(1, 1, 1, 2);
  }

  @Test
  void moreSlicesThanCapacityIsRuleV7() {
    assertThatThrownBy(() -> Chunks.ceil(shape(3, 2, 2), 4))
        .hasMessageContaining("N=4").hasMessageContaining("C=3");
  }

  /**
   * Every (C, N) with C in [1, 40] and N in [1, 8]: 320 pairs, few enough to check all of them
   * rather than a random sample (N > C is rule V7, above).
   */
  @Test
  void bothSlicingsTileEachExpertsCapacityExactly() {
    for (int c = 1; c <= 40; c++) {
      for (int n = 1; n <= 8; n++) {
        if (n <= c) {
          try {
            assertBothSlicingsTile(c, n);
          } catch (AssertionError e) {
            throw new AssertionError("slicing C=" + c + " into N=" + n + ": " + e.getMessage(), e);
          }
        }
      }
    }
  }

  private static void assertBothSlicingsTile(int c, int n) {
    for (List<Chunk> chunks : List.of(Chunks.ceil(shape(c, 4, 2), n),
        Chunks.balanced(shape(c, 4, 2), n))) {
      assertThat(chunks).hasSize(2 * n);
      for (int e = 0; e < 2; e++) {
        int expert = e;
        List<Chunk> mine = chunks.stream().filter(q -> q.expert() == expert).toList();
        int at = 0;
        for (Chunk q : mine) {
          assertThat(q.from()).isEqualTo(at);
          at = q.to();
        }
        assertThat(at).isEqualTo(c);
      }
    }
  }
}
