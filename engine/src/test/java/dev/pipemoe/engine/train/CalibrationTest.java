package dev.pipemoe.engine.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.FabricProfile;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.metrics.CommVolume;
import dev.pipemoe.engine.metrics.Flops;
import dev.pipemoe.engine.moe.LayerShape;
import org.junit.jupiter.api.Test;

class CalibrationTest {
  /** S = 64, M = 8, F = 16, E = 4, top-1, C = 16, EP = DP = 4, GELU, fp32. */
  static final LayerShape SHAPE = new LayerShape(64, 8, 16, 4, 1, 16, 1, 4, 4, false, false,
      DType.F32, 0);
  static final EngineConfig.Fabric C910 = EngineConfig.Fabric.of(FabricProfile.ASCEND_910C);

  @Test
  void commVolumeOfTheSerialScheduleByHand() {
    // D = E C M = 512 elements = 2048 bytes; 4 all-to-alls of 3/4 D each
    CommVolume v = CommVolume.serialStep(SHAPE, 1);
    assertThat(v.epBytes()).isEqualTo(6144.0);
    assertThat(v.tpBytes()).isZero();
    assertThat(v.collectives()).isEqualTo(4);
    // SP, TP = 2, SwiGLU, bf16: (TP-1) D beta (3*2 + 2) with D = 4*16*8, beta = 2; 8 collectives
    LayerShape sp = new LayerShape(64, 8, 16, 4, 1, 16, 2, 4, 4, true, true, DType.BF16, 0);
    assertThat(CommVolume.serialStep(sp, 2).tpBytes()).isEqualTo(2 * 512 * 2 * 8.0);
    assertThat(CommVolume.serialStep(sp, 2).tpCollectives()).isEqualTo(2 * 8);
  }

  @Test
  void theReferenceIsTheJobsLayoutAtProductionSize() {
    LayerShape ref = Calibration.reference(SHAPE);
    assertThat(ref).isEqualTo(new LayerShape(4096, 4096, 14336, 4, 1, 1024, 1, 4, 4, false,
        false, DType.BF16, 0)); // C scales with the tokens: 16 * 4096 / 64
  }

  @Test
  void defaultKeepsTheReferenceLayersBalanceOnTheDevice() {
    Calibration.Result r = Calibration.calibrate(C910, SHAPE, 1e9);
    // reference on 910C: experts 6*1*4*1024*4096*14336*2 = 2.8862e12 (+ router, combine) FLOPs at
    // 0.75 * 376 TFLOPS; 4 all-to-alls of 3/4 * 4*1024*4096 * 2 bytes at 120 GB/s
    LayerShape ref = Calibration.reference(SHAPE);
    double deviceCompute = Flops.perRankStep(ref, 1).hardware() / (0.75 * 376e12);
    double deviceTransfer = 4 * 0.75 * 4 * 1024 * 4096 * 2 / 120e9;
    assertThat(r.commRatio()).isCloseTo(deviceTransfer / deviceCompute, within(1e-12));
    // by hand: 2.8867e12 FLOPs / 2.82e14 = 10.24 ms of compute, 100.66 MB / 120 GB/s = 0.839 ms of
    // transfers: R = 0.082, compute-bound as production layers are
    assertThat(r.commRatio()).isCloseTo(0.0819, within(1e-4));

    double cpuCompute = Flops.perRankStep(SHAPE, 1).hardware() / 1e9; // 114,176 FLOPs at 1 GFLOP/s
    assertThat(cpuCompute).isCloseTo(114_176e-9, within(1e-15));
    LinkModel.Link link = r.linkModel().links().get(0);
    // the job's 6,144 bytes take R x its compute; latency dilates like compute
    assertThat(6144 / link.bandwidthBytesPerSecond()).isCloseTo(r.commRatio() * cpuCompute,
        within(1e-15));
    assertThat(r.dilation()).isCloseTo(cpuCompute / deviceCompute, within(1e-9));
    assertThat(link.latencySeconds()).isCloseTo(30e-6 * r.dilation(), within(1e-15));
    assertThat(r.linkModel().congestion()).isEqualTo(1.25);
    assertThat(r.linkModel().links()).hasSize(1); // 910C: EP and TP share
  }

  @Test
  void anExplicitRatioSetsTheBandwidthAndSeparateLinksGetOneEach() {
    EngineConfig.Fabric ratio2 = new EngineConfig.Fabric(C910.profile(), C910.peakFlopsPerSecond(),
        C910.bandwidthBytesPerSecond(), C910.latencySeconds(), C910.congestion(), false, 2.0);
    Calibration.Result r = Calibration.calibrate(ratio2, SHAPE, 1e9);
    assertThat(r.commRatio()).isEqualTo(2.0);
    assertThat(r.linkModel().links()).extracting(LinkModel.Link::id).containsExactly(0, 1);
    assertThat(r.linkModel().links().get(0).bandwidthBytesPerSecond())
        .isCloseTo(6144 / (2 * 114_176e-9), within(1e-3));
  }

  @Test
  void nothingToModelWithoutLinksOrCollectives() {
    assertThat(Calibration.calibrate(EngineConfig.Fabric.of(FabricProfile.UNMODELLED), SHAPE, 1e9)
        .linkModel()).isEqualTo(LinkModel.unmodelled());
    LayerShape alone = new LayerShape(64, 8, 16, 4, 1, 16, 1, 1, 1, false, false, DType.F32, 0);
    assertThat(Calibration.calibrate(C910, alone, 1e9).linkModel())
        .isEqualTo(LinkModel.unmodelled());
  }
}
