package dev.pipemoe.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.model.GptShape;
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
  void wholeModelFlopsOfDocsEngineMdExample() {
    // docs/engine.md, "Whole-model FLOPs": h = 4096, n_h = 32, s = 4096, L = 2 layers, F = 8192,
    // k = 2, SwiGLU, V = 32768, B = 8 (micro-batch 1 x 2 micro-batches x DP 4), TP 2, EP 4, SP
    LayerShape shape = new LayerShape(2048, 4096, 8192, 8, 2, 1024, 2, 4, 4, true, true,
        DType.BF16, 0);
    GptShape gpt = new GptShape(32768, 32, 4096, 1, 2, 1, false, false);
    // 12 * 8 * 4096 * 2 * 4096^2 * [(1 + 1 + 1) + 2 * 2 * 1.5 + 32768 / (2 * 2 * 4096)]
    //   = 13,194,139,533,312 * 11
    assertThat(Flops.wholeModelPerIteration(shape, gpt, 2)).isEqualTo(145_135_534_866_432.0);
    // TFLOPs per device: over world = 8 ranks, in a 1 s step: 18.14
    Flops f = Flops.wholeModelPerRankStep(shape, gpt, 2);
    assertThat(f.model()).isEqualTo(18_141_941_858_304.0);
    assertThat(Flops.tflops(f.model(), 1_000_000_000L)).isCloseTo(18.141941858304, within(1e-9));
  }

  /** h = 8, n_h = 2, s = 4, 1 layer, F = 16, E = 2, k = 1, GELU, V = 16, B = 2 (DP 2), TP 1. */
  static final LayerShape SMALL = new LayerShape(4, 8, 16, 2, 1, 2, 1, 2, 1, false, false,
      DType.F32, 0);

  @Test
  void wholeModelFlopsOfASmallCaseTermByTerm() {
    GptShape gpt = new GptShape(16, 2, 4, 1, 1, 1, false, false);
    // B s = 8 tokens per iteration; per token and layer:
    double qkvAndProjection = 3 * 2 * 4 * 8 * 8;     // 3 x 2 x 4h^2 = 1536
    double scoresAndContext = 3 * 2 * 2 * 4 * 8;     // 3 x 2 x 2 s h = 384
    double mlp = 6 * 1 * 2 * 8 * 16;                 // 6 k g h F = 1536
    double logits = 6 * 8 * 16;                      // 6 h V = 768 (once, not per layer)
    double byHand = 8 * (qkvAndProjection + scoresAndContext + mlp + logits);
    assertThat(byHand).isEqualTo(33792.0);
    assertThat(Flops.wholeModelPerIteration(SMALL, gpt, 1)).isEqualTo(byHand);
    assertThat(Flops.wholeModelPerRankStep(SMALL, gpt, 1).model()).isEqualTo(byHand / 2);
  }

  @Test
  void wholeModelHardwareFlopsOfTheSmallCaseByHand() {
    GptShape gpt = new GptShape(16, 2, 4, 1, 1, 1, false, false);
    // T = 4 rows. Attention forward: QKV 2*4*8*24 = 1536, scores + context 2*2*4*4*8 = 512,
    // projection 2*4*8*8 = 512: 2560, x3 with backward = 7680.
    // MoE: experts 6*2*1*2*8*16*2 = 6144, router 6*4*8*2 = 384, combine 6*4*1*8 = 192,
    // dispatch 4*1*8 = 32: 6752. LM head 3*2*4*8*16 = 3072.
    assertThat(Flops.wholeModelPerRankStep(SMALL, gpt, 1).hardware())
        .isEqualTo(7680 + 6752 + 3072.0);
    // no padding here: hardware = the rank's model share + router + combine + dispatch
    assertThat(7680 + 6752 + 3072.0).isEqualTo(33792 / 2 + 384 + 192 + 32.0);
    // recompute adds the forward of attention (2560) and of the MoE block (2048 + 128 + 64)
    GptShape recompute = new GptShape(16, 2, 4, 1, 1, 1, true, false);
    assertThat(Flops.wholeModelPerRankStep(SMALL, recompute, 1).hardware())
        .isEqualTo(7680 + 6752 + 3072 + 2560 + 2240.0);
    // three micro-batches: three times the step's work, B three times larger
    GptShape three = new GptShape(16, 2, 4, 1, 3, 1, false, false);
    assertThat(Flops.wholeModelPerRankStep(SMALL, three, 1))
        .isEqualTo(new Flops(3 * 33792 / 2.0, 3 * (7680 + 6752 + 3072.0)));
  }

  @Test
  void contextParallelRanksComputeTheirChunkOfQueriesAgainstTheWholeSequence() {
    // CP 2, TP 2, SP: DP = 1, data = CP x DP = 2; S = 1 x 8 / 2 / 2 = 2 tokens per rank
    LayerShape shape = new LayerShape(2, 8, 16, 2, 1, 2, 2, 2, 1, true, false, DType.F32, 0);
    GptShape gpt = new GptShape(16, 2, 8, 1, 1, 2, false, false);
    // model: B = 1 sample of s = 8: 12*1*8*1*64*[(2 + 1) + 2 + 1] = 36864, over world 4
    assertThat(Flops.wholeModelPerRankStep(shape, gpt, 1).model()).isEqualTo(36864 / 4.0);
    // T = 4 rows: QKV 2*4*8*24/2 = 768, scores + context 2*2*4*8*8/2 = 512, projection
    // 2*4*4*8 = 256: x3 = 4608. MoE (A = TP x EP = 2): experts 6*2*2*2*8*8*2 = 6144, router
    // 6*2*8*2 = 192, combine 6*2*1*8 = 96, dispatch 2*1*8 = 16. Head 3*2*4*8*8 = 1536.
    assertThat(Flops.wholeModelPerRankStep(shape, gpt, 1).hardware())
        .isEqualTo(4608 + 6144 + 192 + 96 + 16 + 1536.0);
  }

  @Test
  void tflopsIsFlopsPerSecondOverTenToTheTwelve() {
    assertThat(Flops.tflops(3e12, 1_500_000_000L)).isCloseTo(2.0, within(1e-12));
    assertThat(Flops.tflops(1e12, 0)).isZero();
  }
}
