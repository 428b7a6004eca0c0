package dev.pipemoe.engine.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** S and C against hand-computed cases (docs/reference.md §2). */
class MoeShapeTest {

  @Test
  void tokensPerRankDividesTheSequenceOverTensorOnlyWithSequenceParallelism() {
    assertThat(MoeShape.tokensPerRank(1, 512, 1, 1, false)).isEqualTo(512);
    assertThat(MoeShape.tokensPerRank(2, 512, 4, 1, true)).isEqualTo(256); // 2·512/4
    assertThat(MoeShape.tokensPerRank(2, 512, 4, 1, false)).isEqualTo(1024); // replicated over TP
  }

  @Test
  void contextParallelismSplitsTheSequenceBeforeTensorParallelism() {
    assertThat(MoeShape.tokensPerRank(2, 512, 4, 2, true)).isEqualTo(128); // 2·512/(2·4)
    assertThat(MoeShape.tokensPerRank(2, 512, 4, 2, false)).isEqualTo(512); // 2·512/2
    assertThat(MoeShape.sequenceSplit(4, 2, true)).isEqualTo(8);
    assertThat(MoeShape.sequenceSplit(4, 2, false)).isEqualTo(2);
  }

  @Test
  void topTwoDoublesTheCapacityFactor() {
    // S/E = 512/4 = 128, cf_eff = 2·1.0: C = 256 = k·f·S/E
    assertThat(MoeShape.capacity(512, 4, 2, 1.0, 4)).isEqualTo(256);
  }

  @Test
  void topOneUsesTheFactorAsItIs() {
    // 128 · 1.25 = 160
    assertThat(MoeShape.capacity(512, 4, 1, 1.25, 4)).isEqualTo(160);
  }

  @Test
  void capacityRoundsUp() {
    // 100/3 = 33.33..., · 2 = 66.67 -> 67
    assertThat(MoeShape.capacity(100, 3, 2, 1.0, 4)).isEqualTo(67);
  }

  @Test
  void capacityIsRaisedToTheMinimum() {
    // 16/8 · 1 = 2 -> raised to 4
    assertThat(MoeShape.capacity(16, 8, 1, 1.0, 4)).isEqualTo(4);
    assertThat(MoeShape.capacity(16, 8, 1, 1.0, 0)).isEqualTo(2);
  }

  @Test
  void capacityIsCappedAtTheTokensPerRank() {
    // 8/2 · 2·4.0 = 32 slots for 8 tokens -> 8
    assertThat(MoeShape.capacity(8, 2, 2, 4.0, 4)).isEqualTo(8);
    // the minimum 4 exceeds S = 2; MindSpeed's if/elif would keep 4 and fail in top-k; we cap
    assertThat(MoeShape.capacity(2, 4, 1, 1.0, 4)).isEqualTo(2);
  }

  @Test
  void productIsTakenInFloat32LikeMindSpeed() {
    // S/E = 100, f = 1.1: in double 100·1.1 = 110.00000000000001 -> 111; MindSpeed's float32 tensor gives 110
    assertThat(100 * 1.1).isGreaterThan(110.0);
    assertThat(MoeShape.capacity(400, 4, 1, 1.1, 4)).isEqualTo(110);
    assertThat(MoeShape.capacity(400, 4, 2, 0.55, 4)).isEqualTo(110);
  }

  @Test
  void hugeFactorsStayWithinTheTokens() {
    assertThat(MoeShape.capacity(Integer.MAX_VALUE, 1, 2, Double.MAX_VALUE, 4)).isEqualTo(Integer.MAX_VALUE);
  }
}
