package dev.pipemoe.engine.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.DType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The cost model's formulas against hand-computed cases (docs/engine.md, "The cost model"). */
class CostModelTest {
  static final HardwareProfile P = new HardwareProfile("p", "p", 8, 100e12, 0.5, 64, 1e12, 0.8,
      5e-6, new HardwareProfile.Link(100e9, 10e-6), new HardwareProfile.Link(25e9, 20e-6), false,
      1.0);

  @Test
  void aGemmTakesItsFlopsAtTheShapesEfficiency() {
    // 2 x 1024^3 FLOPs at 100 TFLOPS x 0.5 x (1024/1088)^3 = 51.7 us, plus 5 us launch
    double eta = 0.5 * Math.pow(1024.0 / (1024 + 64), 3);
    assertThat(new CostModel(P).gemm(1024, 1024, 1024, 1, 12.0 * 1024 * 1024))
        .isCloseTo(5e-6 + 2.0 * 1024 * 1024 * 1024 / (100e12 * eta), within(1e-12));
  }

  @Test
  void aMemoryBoundOpTakesItsBytesUnlessItsArithmeticIsSlower() {
    CostModel bytesOnly = new CostModel(P);
    // 8 MB at 1 TB/s x 0.8 = 10 us, plus launch
    assertThat(bytesOnly.memory("gelu", 8e6, 1e6)).isCloseTo(15e-6, within(1e-15));
    CostModel cpu = new CostModel(P.withElementSeconds(Map.of("gelu", 2e-9)));
    // 1e6 elements x 2 ns = 2 ms, slower than the bytes
    assertThat(cpu.memory("gelu", 8e6, 1e6)).isCloseTo(5e-6 + 2e-3, within(1e-15));
    assertThat(cpu.memory("add", 8e6, 1e6)).as("no arithmetic figure: bytes")
        .isCloseTo(15e-6, within(1e-15));
  }

  @Test
  void collectivesPayLatencyPerAlgorithmStepAndTheirVolume() {
    CostModel c = new CostModel(P);
    assertThat(c.collectiveStartup("all_to_all", 8, true)).isCloseTo(5e-6 + 20e-6, within(1e-15));
    assertThat(c.collectiveStartup("all_gather", 8, false)).isCloseTo(5e-6 + 7 * 10e-6,
        within(1e-15));
    assertThat(c.collectiveStartup("all_reduce", 4, false)).isCloseTo(5e-6 + 6 * 10e-6,
        within(1e-15));
    assertThat(CostModel.collectiveBytes("all_gather", 4, 100)).isEqualTo(300);
    assertThat(CostModel.collectiveBytes("all_reduce", 4, 100)).isEqualTo(150);
    assertThat(CostModel.collectiveBytes("all_to_all", 1, 100)).isZero();
  }

  @Test
  void aShiftIsOneStepThatSendsTheWholeInputToOnePeer() {
    CostModel c = new CostModel(P);
    assertThat(c.collectiveStartup("shift", 8, true)).isCloseTo(5e-6 + 20e-6, within(1e-15));
    assertThat(c.collectiveStartup("shift", 2, false)).isCloseTo(5e-6 + 10e-6, within(1e-15));
    assertThat(CostModel.collectiveBytes("shift", 4, 100)).isEqualTo(100);
    assertThat(CostModel.collectiveBytes("shift", 1, 100)).as("a group of one: a local copy")
        .isZero();
  }

  /**
   * The row ops of the whole model are memory-bound: 4 MB of x read and y written by an RMSNorm
   * of [1024, 512] (gamma and rstd add 6 KB) at 1 TB/s x 0.8, plus launch.
   */
  @Test
  void theTransformerRowOpsAreCostedByTheirBytes() {
    try (SimFabric f = new SimFabric(1, P, false)) {
      var d = f.device(0);
      var s = d.computeStream();
      var x = d.alloc(DType.F32, 1024, 512);
      var gamma = d.alloc(DType.F32, 512);
      var rstd = d.alloc(DType.F32, 1024);
      var scores = d.alloc(DType.F32, 4, 256, 256);
      d.rmsNorm(s, x, gamma, 1e-5f, x, rstd);
      d.causalSoftmax(s, scores, 0.125f, 0, scores);
      d.synchronize();
      var t = d.drainTimeline();
      double bytes = 2.0 * 1024 * 512 * 4 + 512 * 4 + 1024 * 4;
      assertThat(t.get(0).op()).isEqualTo("rms_norm");
      assertThat(t.get(0).durationNanos() * 1e-9)
          .isCloseTo(5e-6 + bytes / (1e12 * 0.8), within(1e-9));
      // every B x Q x K element read and written, masked or not
      assertThat(t.get(1).op()).isEqualTo("causal_softmax");
      assertThat(t.get(1).durationNanos() * 1e-9)
          .isCloseTo(5e-6 + 2.0 * 4 * 256 * 256 * 4 / (1e12 * 0.8), within(1e-9));
    }
  }
}
