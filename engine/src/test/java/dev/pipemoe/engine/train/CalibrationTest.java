package dev.pipemoe.engine.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.FabricProfile;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.metrics.CommVolume;
import dev.pipemoe.engine.moe.LayerShape;
import org.junit.jupiter.api.Test;

class CalibrationTest {
  /** S = 64, M = 8, F = 16, E = 4, top-1, C = 16, EP = DP = 4, GELU, fp32. */
  static final LayerShape SHAPE = new LayerShape(64, 8, 16, 4, 1, 16, 1, 4, 4, false, false,
      DType.F32, 0);

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
  void deviceModeDilatesByPeakTimesEfficiencyOverTheMeasuredRate() {
    EngineConfig.Fabric fabric = EngineConfig.Fabric.of(FabricProfile.ASCEND_910C);
    LinkModel m = Calibration.linkModel(fabric, SHAPE, 1, 50e9);
    double dilation = 0.75 * 376e12 / 50e9; // 5,640
    assertThat(m.links()).singleElement().satisfies(l -> {
      assertThat(l.bandwidthBytesPerSecond()).isCloseTo(120e9 / dilation, within(1.0));
      assertThat(l.latencySeconds()).isCloseTo(30e-6 * dilation, within(1e-9));
    });
    assertThat(m.congestion()).isEqualTo(1.25);
  }

  @Test
  void commRatioModeMakesSerialTransfersLastRTimesTheComputation() {
    EngineConfig.Fabric f = EngineConfig.Fabric.of(FabricProfile.ASCEND_910C);
    EngineConfig.Fabric ratio2 = new EngineConfig.Fabric(f.profile(), f.peakFlopsPerSecond(),
        f.bandwidthBytesPerSecond(), f.latencySeconds(), f.congestion(), false, 2.0);
    LinkModel m = Calibration.linkModel(ratio2, SHAPE, 1, 1e9);
    // hardware FLOPs: experts 6*1*4*16*8*16*2 = 98,304; router 6*64*8*4 = 12,288;
    // combine 6*64*1*8 = 3,072; dispatch 64*1*8 = 512; at 1 GFLOP/s: 114.176 us of compute
    double compute = 114_176e-9;
    double bandwidth = 6144 / (2 * compute);
    assertThat(m.links()).hasSize(2); // separate links asked for
    LinkModel.Link ep = m.links().get(0);
    assertThat(ep.bandwidthBytesPerSecond()).isCloseTo(bandwidth, within(1e-3));
    assertThat(6144 / ep.bandwidthBytesPerSecond()).isCloseTo(2 * compute, within(1e-12));
    // latency: alpha B / reference message = 30 us * 120 GB/s / 58,720,256 B of each transfer
    double share = 30e-6 * 120e9 / 58_720_256.0;
    assertThat(ep.latencySeconds()).isCloseTo(share * (6144 / 4.0) / bandwidth, within(1e-12));
  }

  @Test
  void nothingToModelWithoutLinksOrCollectives() {
    assertThat(Calibration.linkModel(EngineConfig.Fabric.of(FabricProfile.UNMODELLED), SHAPE, 1,
        1e9)).isEqualTo(LinkModel.unmodelled());
    LayerShape alone = new LayerShape(64, 8, 16, 4, 1, 16, 1, 1, 1, false, false, DType.F32, 0);
    EngineConfig.Fabric f = EngineConfig.Fabric.of(FabricProfile.ASCEND_910C);
    EngineConfig.Fabric ratio = new EngineConfig.Fabric(f.profile(), f.peakFlopsPerSecond(),
        f.bandwidthBytesPerSecond(), f.latencySeconds(), f.congestion(), true, 1.0);
    assertThat(Calibration.linkModel(ratio, alone, 1, 1e9)).isEqualTo(LinkModel.unmodelled());
  }
}
