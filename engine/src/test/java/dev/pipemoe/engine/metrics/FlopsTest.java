package dev.pipemoe.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.moe.LayerShape;
import org.junit.jupiter.api.Test;

class FlopsTest {

  @Test
  void gluModelAndHardwareFlopsByHand() {
    // S = 8 tokens per rank, M = 4, F = 6, E = 2, k = 1, C = 4, TP = EP = DP = 1, GELU (g = 2)
    LayerShape shape = new LayerShape(8, 4, 6, 2, 1, 4, 1, 1, 1, false, false, DType.F32, 0);
    Flops f = Flops.perRankStep(shape, 1);
    // model: 6 k g M F * tokens = 6 * 1 * 2 * 4 * 6 * 8 = 2304
    assertThat(f.model()).isEqualTo(2304.0);
    // experts 3*2*L*A*C*M*(F/TP)*g = 6*2*1*4*4*6*2 = 2304; router 6*S*M*E = 384;
    // combine 6*S*k*M = 192; dispatch S*k*M = 32
    assertThat(f.hardware()).isEqualTo(2304 + 384 + 192 + 32.0);
  }

  @Test
  void swigluTopTwoWithSequenceParallelTensorAndExpertParallelism() {
    // S = 16 (a micro-batch of 32 tokens over TP = 2), M = 8, F = 12, E = 4, EP = 2 (L = 2),
    // DP = 2, k = 2, C = 16 (= ceil(16/4 * 2 * 2)), SwiGLU (g = 3)
    LayerShape shape = new LayerShape(16, 8, 12, 4, 2, 16, 2, 2, 2, true, true, DType.BF16, 0.01);
    Flops f = Flops.perRankStep(shape, 2);
    // model per layer: 6 * 2 * 3 * 8 * 12 * 16 = 55296; two layers
    assertThat(f.model()).isEqualTo(2 * 55296.0);
    // experts: 6 * L=2 * A=4 * C=16 * M=8 * F/TP=6 * g=3 = 110592 (twice the model count: C
    // holds 2x the routed tokens at f = 1 with top-2, i.e. padding is counted);
    // router 6*16*8*4 = 3072; combine 6*16*2*8 = 1536; dispatch 16*2*8 = 256
    assertThat(f.hardware()).isEqualTo(2 * (110592 + 3072 + 1536 + 256.0));
  }

  @Test
  void withoutSequenceParallelTensorRanksShareTheTokensWork() {
    LayerShape shape = new LayerShape(32, 8, 12, 4, 2, 32, 2, 2, 2, false, true, DType.F32, 0);
    // share = S / TP = 16 tokens: the same model FLOPs per rank as the SP layout above
    assertThat(Flops.perRankStep(shape, 1).model()).isEqualTo(55296.0);
  }

  @Test
  void tflopsIsFlopsPerSecondOverTenToTheTwelve() {
    assertThat(Flops.tflops(3e12, 1_500_000_000L)).isCloseTo(2.0, within(1e-12));
    assertThat(Flops.tflops(1e12, 0)).isZero();
  }
}
