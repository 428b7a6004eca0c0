package dev.pipemoe.worker.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.sim.HardwareProfile;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cpu profile's fitting and link mapping on synthetic measurements (no timing asserted). */
class CpuProfileTest {
  private static final double LAUNCH = 3e-6;

  /** Per-op seconds as the benchmarks would see them on a device that follows the cost model. */
  private static double[] times(double peak, double h, double hbm) {
    CpuProfile.GemmFit truth = new CpuProfile.GemmFit(peak, h);
    double elements = 4L << 20;
    int base = 3 + CpuProfile.GEMM_SHAPES.length;
    double[] t = new double[base + CpuProfile.ARITHMETIC_OPS.size()];
    t[0] = LAUNCH;
    t[1] = LAUNCH + 2 * elements * Float.BYTES / hbm;
    t[2] = LAUNCH + 3 * elements * Float.BYTES / hbm;
    for (int i = 0; i < CpuProfile.GEMM_SHAPES.length; i++) {
      int[] s = CpuProfile.GEMM_SHAPES[i];
      t[3 + i] = LAUNCH + 2.0 * s[0] * s[1] * s[2] / truth.rate(s[0], s[1], s[2]);
    }
    for (int i = 0; i < CpuProfile.ARITHMETIC_OPS.size(); i++) {
      t[base + i] = LAUNCH + (i + 1) * 1e-9 * 256 * 1024;  // op i: (i + 1) ns per element
    }
    return t;
  }

  @Test
  void theFitRecoversPeakHalfDimensionBandwidthAndLaunch() {
    for (double h : new double[] {0.5, 9, 40, 300}) {
      CpuProfile.Measured m = CpuProfile.fromTimes(2, times(60e9, h, 15e9));
      assertThat(m.launchSeconds()).isEqualTo(LAUNCH);
      assertThat(m.fit().halfDim()).as("h").isCloseTo(h, within(h * 0.02));
      assertThat(m.fit().peakFlops()).isCloseTo(60e9, within(60e9 * 0.02));
      assertThat(m.hbmBytesPerSecond()).isCloseTo(15e9, within(1.0));
      assertThat(m.describe()).contains("2 rank(s) at once").contains("GEMM fit 60.0 GFLOP/s")
          .contains("512x512x32").contains("gelu 1.00 ns").contains("adam 7.00 ns");
      for (int i = 0; i < CpuProfile.ARITHMETIC_OPS.size(); i++) {
        assertThat(m.elementSeconds().get(CpuProfile.ARITHMETIC_OPS.get(i)))
            .isCloseTo((i + 1) * 1e-9, within(1e-15));
      }
    }
  }

  @Test
  void theFitIsLeastSquaresInLogSpaceWhenTheCurveDoesNotFitExactly() {
    // a rate 10 % above the curve for one shape and 10 % below for another: the peak stays put
    List<CpuProfile.GemmSample> samples = List.of(
        new CpuProfile.GemmSample(512, 512, 512, 2.0 * 512 * 512 * 512 / (50e9 * 1.1)),
        new CpuProfile.GemmSample(512, 512, 512, 2.0 * 512 * 512 * 512 / (50e9 / 1.1)));
    CpuProfile.GemmFit fit = CpuProfile.fitGemm(samples, 0);
    assertThat(fit.rate(512, 512, 512)).isCloseTo(50e9, within(50e9 * 0.01));
  }

  @Test
  void linksFollowTheNativeLinkModelSoEachGroupLandsOnItsLinkSet() {
    HardwareProfile cpu = HardwareProfile.load("cpu");
    CpuProfile.Measured m = CpuProfile.fromTimes(4, times(60e9, 9, 15e9));

    HardwareProfile shared = CpuProfile.profile(cpu, m,
        new LinkModel(1.25, List.of(new LinkModel.Link(0, 2e9, 1e-5))), 2, 4);
    assertThat(shared.unifiedLinks()).isTrue();
    assertThat(shared.intra()).isEqualTo(new HardwareProfile.Link(2e9, 1e-5));
    assertThat(shared.inter()).isEqualTo(shared.intra());
    assertThat(shared.congestion()).isEqualTo(1.25);
    assertThat(shared.peakFlops()).isCloseTo(60e9, within(60e9 * 0.02));
    assertThat(shared.gemmEfficiency()).isEqualTo(1.0);
    assertThat(shared.launchSeconds()).isEqualTo(LAUNCH);

    // EP on set 0, TP on set 1: one node per TP group, so TP is intra and EP inter
    HardwareProfile separate = CpuProfile.profile(cpu, m, new LinkModel(1.0,
        List.of(new LinkModel.Link(0, 2e9, 1e-5), new LinkModel.Link(1, 3e9, 2e-5))), 2, 4);
    assertThat(separate.unifiedLinks()).isFalse();
    assertThat(separate.ranksPerNode()).isEqualTo(2);
    assertThat(separate.intra()).isEqualTo(new HardwareProfile.Link(3e9, 2e-5));
    assertThat(separate.inter()).isEqualTo(new HardwareProfile.Link(2e9, 1e-5));

    HardwareProfile free = CpuProfile.profile(cpu, m, LinkModel.unmodelled(), 2, 4);
    assertThat(free.intra().bandwidth()).isZero();
    assertThat(free.inter().bandwidth()).isZero();
  }
}
