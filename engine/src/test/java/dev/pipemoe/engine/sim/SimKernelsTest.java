package dev.pipemoe.engine.sim;

import static dev.pipemoe.engine.sim.SimFixtures.f32;
import static dev.pipemoe.engine.sim.SimFixtures.i32;
import static dev.pipemoe.engine.sim.SimFixtures.read;
import static dev.pipemoe.engine.sim.SimFixtures.readInts;
import static dev.pipemoe.engine.sim.SimFixtures.view;
import static dev.pipemoe.engine.sim.SimFixtures.zeros;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.Distribution;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Hand-computed cases per op of the simulated device's numerics. */
class SimKernelsTest {

  // ---- numbers -------------------------------------------------------------------------------

  @Test
  void bf16RoundsToNearestEven() {
    assertEquals(1.0f, SimKernels.bf16(1 + 0x1p-8f), "a tie goes to the even mantissa (down)");
    assertEquals(1 + 0x1p-6f, SimKernels.bf16(1 + 0x1p-7f + 0x1p-8f), "a tie goes to even (up)");
    assertEquals(1 + 0x1p-7f, SimKernels.bf16(1 + 0x1p-7f + 0x1p-9f), "below the tie: down");
    assertEquals(1 + 0x1p-7f, SimKernels.bf16(1 + 0x1p-8f + 0x1p-20f), "above the tie: up");
    assertEquals(-1.0f, SimKernels.bf16(-1 - 0x1p-8f));
    assertEquals(Float.POSITIVE_INFINITY, SimKernels.bf16(Float.MAX_VALUE), "overflow rounds to inf");
    assertEquals(Float.NEGATIVE_INFINITY, SimKernels.bf16(Float.NEGATIVE_INFINITY));
    float nan = SimKernels.bf16(Float.intBitsToFloat(0xff800001));
    assertThat(nan).isNaN();
    assertEquals(0xffc00000, Float.floatToRawIntBits(nan), "a NaN stays a quiet NaN of its sign");
    assertEquals(-0.0f, SimKernels.bf16(-0.0f));
  }

  @Test
  void erfMatchesReferenceValues() {
    // reference: the C library's erf (CPython math.erf), correctly rounded or within an ulp
    double[][] cases = {{1e-10, 1.1283791670955126e-10}, {0.5, 0.5204998778130465},
        {1, 0.8427007929497149}, {2, 0.9953222650189527}, {2.5, 0.999593047982555},
        {3, 0.9999779095030014}, {4, 0.9999999845827421}, {5.9, 0.9999999999999999}, {7, 1}};
    for (double[] c : cases) {
      assertEquals(c[1], SimKernels.erf(c[0]), 2e-15, "erf(" + c[0] + ")");
      assertEquals(-c[1], SimKernels.erf(-c[0]), 2e-15, "erf is odd");
    }
    assertEquals(-0.0, SimKernels.erf(-0.0));
    assertThat(SimKernels.erf(Double.NaN)).isNaN();
    assertEquals(1.0, SimKernels.erf(Double.POSITIVE_INFINITY));
  }

  // ---- fill, random, copy --------------------------------------------------------------------

  @Test
  void fillWritesOnlyTheViewAndConvertsPerDtype() {
    SimTensor base = zeros(DType.F32, 3, 4);
    SimKernels.fill(view(base, 1, new long[] {2, 2}, new long[] {4, 1}), 7);
    assertArrayEquals(new float[] {0, 7, 7, 0, 0, 7, 7, 0, 0, 0, 0, 0}, read(base));

    SimTensor bf = zeros(DType.BF16, 2);
    SimKernels.fill(bf, 1 + 0x1p-8f);
    assertArrayEquals(new float[] {1, 1}, read(bf));

    SimTensor ints = zeros(DType.I32, 3);
    SimKernels.fill(ints, -2.7f);
    assertArrayEquals(new int[] {-2, -2, -2}, readInts(ints), "(int32_t) truncates");
    SimKernels.fill(ints, Float.NaN);
    assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE},
        readInts(ints), "x86's out-of-range conversion");
  }

  @Test
  void randomMatchesTheCounterBasedFormula() {
    // independent reference (Python, exact integers): splitmix64 output c = mix(seed + (c+1) g)
    SimTensor u = zeros(DType.F32, 4);
    SimKernels.random(u, 42, Distribution.UNIFORM, -1, 2);
    assertArrayEquals(new float[] {1.2246946096420288f, -0.1641966700553894f,
        -0.8859095573425293f, -0.3447844386100769f}, read(u));
    SimTensor n = zeros(DType.F32, 2, 2);
    SimKernels.random(n, 42, Distribution.NORMAL, 0.5f, 2);
    assertArrayEquals(new float[] {1.3294395208358765f, -1.2837724685668945f, 3.95918607711792f,
        1.5912408828735352f}, read(n), 1e-6f, "Box-Muller in double, then float");
  }

  @Test
  void randomDependsOnTheLogicalIndexNotTheStridesAndRoundsBf16() {
    SimTensor base = zeros(DType.BF16, 3, 5);
    SimTensor v = view(base, 2, new long[] {3, 2}, new long[] {5, 1});
    SimKernels.random(v, 7, Distribution.NORMAL, 0, 1);
    SimTensor dense = zeros(DType.F32, 6);
    SimKernels.random(dense, 7, Distribution.NORMAL, 0, 1);
    float[] expect = read(dense);
    for (int i = 0; i < expect.length; i++) {
      expect[i] = SimKernels.bf16(expect[i]);
    }
    assertArrayEquals(expect, read(v));
    assertEquals(0, base.storage.floats()[0], "outside the view");
  }

  @Test
  void uniformStaysBelowItsUpperBoundInF32() {
    float b = Math.nextUp(Math.nextUp(1f));  // two ulps wide: a + (b - a) u often rounds to b
    SimTensor t = zeros(DType.F32, 1000);
    SimKernels.random(t, 3, Distribution.UNIFORM, 1, b);
    for (float x : read(t)) {
      assertThat(x).isGreaterThanOrEqualTo(1).isLessThan(b);
    }
    assertThat(read(t)).contains(1f, Math.nextUp(1f));
    // in BF16 the clamped float is rounded afterwards and may reach b, as in the native runtime
    SimTensor h = zeros(DType.BF16, 1000);
    SimKernels.random(h, 3, Distribution.UNIFORM, 1, 1.0078125f);
    assertThat(read(h)).contains(1f, 1.0078125f);
  }

  @Test
  void copyCastsAndReadsATransposedView() {
    SimTensor src = f32(new float[] {1, 2, 3, 1 + 0x1p-7f + 0x1p-8f, 5, 6}, 2, 3);
    SimTensor dst = zeros(DType.BF16, 3, 2);
    SimKernels.copy(view(src, 0, new long[] {3, 2}, new long[] {1, 3}), dst);
    assertArrayEquals(new float[] {1, 1 + 0x1p-6f, 2, 5, 3, 6}, read(dst));
    SimTensor back = zeros(DType.F32, 3, 2);
    SimKernels.copy(dst, back);
    assertArrayEquals(read(dst), read(back));
    SimTensor ints = zeros(DType.I32, 2);
    SimKernels.copy(i32(new int[] {-1, 9}, 2), ints);
    assertArrayEquals(new int[] {-1, 9}, readInts(ints));
  }

  @Test
  void copyBetweenOverlappingViewsReadsFirst() {
    SimTensor base = f32(new float[] {1, 2, 3, 4}, 4);
    SimKernels.copy(view(base, 0, new long[] {3}, new long[] {1}),
        view(base, 1, new long[] {3}, new long[] {1}));
    assertArrayEquals(new float[] {1, 1, 2, 3}, read(base), "memmove semantics");
  }

  // ---- GEMM ----------------------------------------------------------------------------------

  private static final float[] A = {1, 2, 3, 4, 5, 6};  // [2,3]
  private static final float[] B = {1, 0, 0, 1, 1, 1};  // [3,2]

  @Test
  void gemmScalesAndAccumulates() {
    SimTensor c = f32(new float[] {1, 1, 1, 1}, 2, 2);
    SimKernels.gemm(false, false, 2, f32(A, 2, 3), f32(B, 3, 2), 1, c);
    assertArrayEquals(new float[] {9, 11, 21, 23}, read(c));  // 2 [[4,5],[10,11]] + 1
  }

  @Test
  void gemmTransposesEitherOperand() {
    SimTensor at = f32(new float[] {1, 4, 2, 5, 3, 6}, 3, 2);
    SimTensor bt = f32(new float[] {1, 0, 1, 0, 1, 1}, 2, 3);
    SimTensor c = zeros(DType.F32, 2, 2);
    SimKernels.gemm(true, true, 1, at, bt, 0, c);
    assertArrayEquals(new float[] {4, 5, 10, 11}, read(c));
  }

  @Test
  void gemmBroadcastsABatchOfStrideZero() {
    SimTensor a = f32(new float[] {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6}, 2, 2, 3);
    SimTensor b = view(f32(B, 3, 2), 0, new long[] {2, 3, 2}, new long[] {0, 2, 1});
    SimTensor c = zeros(DType.F32, 2, 2, 2);
    SimKernels.gemm(false, false, 1, a, b, 0, c);
    assertArrayEquals(new float[] {4, 5, 10, 11, -4, -5, -10, -11}, read(c));
  }

  @Test
  void gemmBetaZeroNeverReadsCAndAlphaZeroNeverReadsAB() {
    SimTensor c = f32(new float[] {Float.NaN, Float.NaN, Float.NaN, Float.NaN}, 2, 2);
    SimKernels.gemm(false, false, 1, f32(A, 2, 3), f32(B, 3, 2), 0, c);
    assertArrayEquals(new float[] {4, 5, 10, 11}, read(c));
    SimTensor nan = f32(new float[] {Float.NaN, 0, 0, 0, 0, 0}, 2, 3);
    SimKernels.gemm(false, false, 0, nan, f32(B, 3, 2), 0.5f, c);
    assertArrayEquals(new float[] {2, 2.5f, 5, 5.5f}, read(c));
    SimTensor empty = zeros(DType.F32, 2, 0);
    SimKernels.gemm(false, false, 1, empty, zeros(DType.F32, 0, 2), 2, c);
    assertArrayEquals(new float[] {4, 5, 10, 11}, read(c), "k = 0: c = beta c");
  }

  // ---- elementwise ---------------------------------------------------------------------------

  @Test
  void elementwiseOpsFollowStridedViews() {
    SimTensor base = f32(new float[] {1, 2, 9, 3, 4, 9}, 2, 3);
    SimTensor x = view(base, 0, new long[] {2, 2}, new long[] {3, 1});
    SimTensor out = zeros(DType.F32, 2, 2);
    SimKernels.add(x, f32(new float[] {10, 20, 30, 40}, 2, 2), out);
    assertArrayEquals(new float[] {11, 22, 33, 44}, read(out));
    SimKernels.axpy(2, x, out);
    assertArrayEquals(new float[] {13, 26, 39, 52}, read(out));
    SimKernels.scale(0.5f, x);
    assertArrayEquals(new float[] {0.5f, 1, 9, 1.5f, 2, 9}, read(base));
  }

  @Test
  void activationsAtKnownPoints() {
    SimTensor x = f32(new float[] {0, 1, -10, 10}, 4);
    SimTensor y = zeros(DType.F32, 4);
    SimKernels.gelu(x, y);
    float[] g = read(y);
    assertEquals(0f, g[0]);
    assertEquals(0.8413447460685429f, g[1], 1e-7f);  // Phi(1)
    assertEquals(-0.0f, g[2], "erf saturates to -1: -10 * 0");
    assertEquals(10f, g[3]);
    SimKernels.geluBackward(x, f32(new float[] {1, 1, 1, 2}, 4), y);
    g = read(y);
    assertEquals(0.5f, g[0]);
    assertEquals(0.8413447460685429 + 0.24197072451914337, g[1], 1e-7);  // Phi(1) + phi(1)
    assertEquals(2f, g[3]);

    SimKernels.swiglu(x, f32(new float[] {3, 2, 1, 1}, 4), y);
    g = read(y);
    assertEquals(0f, g[0]);
    assertEquals(2 / (1 + Math.exp(-1)), g[1], 1e-7);
    SimTensor da = zeros(DType.F32, 4), db = zeros(DType.F32, 4);
    SimKernels.swigluBackward(x, f32(new float[] {3, 2, 1, 1}, 4), f32(new float[] {1, 1, 1, 1}, 4),
        da, db);
    assertEquals(1.5f, read(da)[0], "d silu(a)/da at 0 is 1/2, times b = 3");
    assertEquals(0f, read(db)[0]);
  }

  @Test
  void swigluBackwardMayOverwriteItsInputs() {
    SimTensor a = f32(new float[] {1}, 1), b = f32(new float[] {2}, 1);
    SimTensor da = zeros(DType.F32, 1), db = zeros(DType.F32, 1);
    SimKernels.swigluBackward(a, b, f32(new float[] {1}, 1), da, db);
    SimKernels.swigluBackward(a, b, f32(new float[] {1}, 1), a, b);  // da = a, db = b
    assertArrayEquals(read(da), read(a));
    assertArrayEquals(read(db), read(b));
  }

  @Test
  void mseLossAndAdam() {
    SimTensor loss = zeros(DType.F32, 1), dy = zeros(DType.F32, 2, 2);
    SimKernels.mseLoss(f32(new float[] {1, 2, 3, 4}, 2, 2), f32(new float[] {1, 0, 3, 0}, 2, 2),
        0.5f, loss, dy);
    assertEquals(5f, read(loss)[0]);  // (4 + 16) / 4
    assertArrayEquals(new float[] {0, 0.5f, 0, 1}, read(dy));  // 0.5 * 2 d / 4

    SimTensor p = f32(new float[] {1, 1}, 2), m = zeros(DType.F32, 2), v = zeros(DType.F32, 2);
    SimKernels.adam(p, f32(new float[] {0.5f, -2}, 2), m, v, new AdamParams(0.1f, 0.9f, 0.999f,
        1e-8f, 0), 1);
    assertArrayEquals(new float[] {0.9f, 1.1f}, read(p), 1e-6f, "step 1 moves by lr sign(g)");
    assertArrayEquals(new float[] {0.05f, -0.2f}, read(m), 1e-7f);
    assertArrayEquals(new float[] {(1 - 0.999f) * 0.25f, (1 - 0.999f) * 4}, read(v), "fp32 moments");
  }

  // ---- rows ----------------------------------------------------------------------------------

  @Test
  void softmaxAndItsBackward() {
    SimTensor y = zeros(DType.F32, 2, 2);
    SimKernels.softmax(f32(new float[] {0, (float) Math.log(3), 5, 5}, 2, 2), y);
    assertArrayEquals(new float[] {0.25f, 0.75f, 0.5f, 0.5f}, read(y), 1e-7f);
    SimTensor dx = zeros(DType.F32, 2, 2);
    SimKernels.softmaxBackward(f32(new float[] {0.25f, 0.75f, 0.5f, 0.5f}, 2, 2),
        f32(new float[] {1, 0, 1, 1}, 2, 2), dx);
    // dx = y (dy - y.dy): row 0: y.dy = 0.25
    assertArrayEquals(new float[] {0.1875f, -0.1875f, 0, 0}, read(dx));
  }

  @Test
  void topkBreaksTiesTowardTheLowerIndex() {
    SimTensor x = f32(new float[] {1, 3, 3, 2, 5, 5, 5, 5}, 2, 4);
    SimTensor values = zeros(DType.F32, 2, 3), indices = zeros(DType.I32, 2, 3);
    SimKernels.topk(x, 3, values, indices);
    assertArrayEquals(new int[] {1, 2, 3, 0, 1, 2}, readInts(indices));
    assertArrayEquals(new float[] {3, 3, 2, 5, 5, 5}, read(values));
  }

  @Test
  void topkNeverPrefersANaNNorReplacesOne() {
    SimTensor values = zeros(DType.F32, 2, 1), indices = zeros(DType.I32, 2, 1);
    SimKernels.topk(f32(new float[] {Float.NaN, 9, 1, Float.NaN}, 2, 2), 1, values, indices);
    assertArrayEquals(new int[] {0, 0}, readInts(indices), "a scan from a NaN never moves");
  }

  @Test
  void topkBackwardAddsAndRefusesIndicesOutsideTheRow() {
    SimTensor dx = f32(new float[] {1, 1, 1}, 1, 3);
    SimKernels.topkBackward(f32(new float[] {2, 3}, 1, 2), i32(new int[] {2, 0}, 1, 2), dx);
    assertArrayEquals(new float[] {4, 1, 3}, read(dx));
    assertThatThrownBy(() -> SimKernels.topkBackward(f32(new float[] {2, 3}, 1, 2),
        i32(new int[] {1, -1}, 1, 2), dx))
        .isInstanceOf(DeviceException.class)
        .hasMessage("topkBackward: indices[0,1] = -1 is outside dx's 3 columns")
        .extracting(e -> ((DeviceException) e).code()).isEqualTo(1);
    assertArrayEquals(new float[] {4, 3, 3}, read(dx), "the choices before the bad one landed");
  }

  @Test
  void gatherRowsDispatchesAndCombinesSkippingEmptySlots() {
    SimTensor src = f32(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
    SimTensor dst = f32(new float[] {Float.NaN, Float.NaN, 9, 9}, 2, 2);
    SimKernels.gatherRows(src, i32(new int[] {2, -1}, 2, 1), null, 0, dst);
    assertArrayEquals(new float[] {5, 6, 0, 0}, read(dst), "beta 0 never reads dst; -1 is empty");
    SimKernels.gatherRows(src, i32(new int[] {0, 1, -1, 2}, 2, 2),
        f32(new float[] {0.5f, 2, 7, 1}, 2, 2), 1, dst);
    assertArrayEquals(new float[] {5 + 0.5f + 6, 6 + 1 + 8, 5, 6}, read(dst));
    assertThatThrownBy(() -> SimKernels.gatherRows(src, i32(new int[] {3, 0}, 2, 1), null, 1, dst))
        .hasMessage("gatherRows: index[0,0] = 3 but src has 3 rows");
  }

  @Test
  void scatterAddRowsAndGatherDot() {
    SimTensor dst = zeros(DType.F32, 3, 2);
    SimTensor src = f32(new float[] {1, 2, 3, 4}, 2, 2);
    SimTensor index = i32(new int[] {2, -1, 2, 0}, 2, 2);
    SimKernels.scatterAddRows(src, index, f32(new float[] {1, 9, 2, 0.5f}, 2, 2), dst);
    assertArrayEquals(new float[] {1.5f, 2, 0, 0, 7, 10}, read(dst));
    SimTensor out = f32(new float[] {9, 9, 9, 9}, 2, 2);
    SimKernels.gatherDot(src, dst, index, out);
    assertArrayEquals(new float[] {27, 0, 61, 12.5f}, read(out));  // [1,2].[7,10], -, [3,4].[7,10], [3,4].[1.5,2]
  }

  // ---- MoE routing ---------------------------------------------------------------------------

  @Test
  void moeRouteQueuesEveryFirstChoiceBeforeAnySecondAndDropsOverCapacity() {
    SimTensor slots = zeros(DType.I32, 3, 2), slotToken = zeros(DType.I32, 4);
    SimTensor dropped = zeros(DType.I32, 1);
    SimKernels.moeRoute(i32(new int[] {0, 1, 1, 0, 0, 1}, 3, 2), i32(new int[] {1, 0}, 2), 2,
        slots, slotToken, dropped);
    // expert 0 owns rows 2..3 (expert_row 1), expert 1 rows 0..1
    assertArrayEquals(new int[] {2, 1, 0, -1, 3, -1}, readInts(slots));
    assertArrayEquals(new int[] {1, 0, 0, 2}, readInts(slotToken));
    assertArrayEquals(new int[] {2}, readInts(dropped));
  }

  @Test
  void moeRouteLeavesUnusedSlotsEmpty() {
    SimTensor slots = zeros(DType.I32, 2, 1), slotToken = zeros(DType.I32, 6);
    SimTensor dropped = i32(new int[] {5}, 1);
    SimKernels.moeRoute(i32(new int[] {1, 1}, 2, 1), i32(new int[] {0, 1}, 2), 3, slots, slotToken,
        dropped);
    assertArrayEquals(new int[] {3, 4}, readInts(slots));
    assertArrayEquals(new int[] {-1, -1, -1, 0, 1, -1}, readInts(slotToken));
    assertArrayEquals(new int[] {0}, readInts(dropped));
    assertThatThrownBy(() -> SimKernels.moeRoute(i32(new int[] {2, 1}, 2, 1),
        i32(new int[] {0, 1}, 2), 3, slots, slotToken, dropped))
        .hasMessage("moeRoute: indices[0,0] = 2 is outside 0..1");
    assertThatThrownBy(() -> SimKernels.moeRoute(i32(new int[] {0, 1}, 2, 1),
        i32(new int[] {0, 2}, 2), 3, slots, slotToken, dropped))
        .hasMessage("moeRoute: expert_row[1] = 2 is outside 0..1");
  }

  @Test
  void gateWeightsNormaliseKeptChoicesAndZeroDroppedOnes() {
    SimTensor values = f32(new float[] {0.6f, 0.2f, 0.6f, 0.2f, 0.6f, 0.2f, 1e-9f, 0}, 4, 2);
    SimTensor slots = i32(new int[] {0, 1, 0, -1, -1, -1, 0, 1}, 4, 2);
    SimTensor w = zeros(DType.F32, 4, 2);
    SimKernels.moeGateWeights(values, slots, w);
    assertArrayEquals(new float[] {0.75f, 0.25f, 1, 0, 0, 0, 1e-9f / 0x1p-23f, 0}, read(w), 1e-7f);

    SimTensor dv = zeros(DType.F32, 4, 2);
    SimKernels.moeGateWeightsBackward(values, slots, f32(new float[] {1, 0, 1, 1, 1, 1, 1, 1}, 4,
        2), dv);
    // kept pair: dv_i = (dw_i - sum_j dw_j w_j) / D, D = 0.8
    assertArrayEquals(new float[] {(1 - 0.75f) / 0.8f, (0 - 0.75f) / 0.8f, 0, 0, 0, 0,
        1 / 0x1p-23f, 1 / 0x1p-23f}, read(dv), 1e-6f);

    SimTensor k1 = zeros(DType.F32, 2, 1);
    SimKernels.moeGateWeights(f32(new float[] {0.3f, 0.7f}, 2, 1), i32(new int[] {4, -1}, 2, 1), k1);
    assertArrayEquals(new float[] {0.3f, 0}, read(k1), "k = 1 keeps the probability");
  }

  @Test
  void auxLossFromFirstChoices() {
    SimTensor loss = zeros(DType.F32, 1), dProbs = f32(new float[] {1, 1, 1, 1}, 2, 2);
    SimKernels.moeAuxLoss(f32(new float[] {0.75f, 0.25f, 0.5f, 0.5f}, 2, 2),
        i32(new int[] {0, 1, 0, 1}, 2, 2), 0.1f, loss, dProbs);
    // frac = [1, 0], mean = [0.625, 0.375]: l = 0.625, loss = 0.1 * 2 * l
    assertEquals(0.125f, read(loss)[0], 1e-8f);
    assertArrayEquals(new float[] {1.1f, 1, 1.1f, 1}, read(dProbs), 1e-7f);
  }

  // ---- collectives ---------------------------------------------------------------------------

  @Test
  void allToAllSwapsBlocksInBf16() {
    SimTensor[] in = {SimFixtures.floats(DType.BF16, new float[] {1, 2, 3, 4}, 4, 1),
        SimFixtures.floats(DType.BF16, new float[] {5, 6, 7, 8}, 4, 1)};
    SimTensor[] out = {zeros(DType.BF16, 4, 1), zeros(DType.BF16, 4, 1)};
    SimKernels.allToAll(in, out);
    assertArrayEquals(new float[] {1, 2, 5, 6}, read(out[0]));
    assertArrayEquals(new float[] {3, 4, 7, 8}, read(out[1]));
  }

  @Test
  void allGatherConcatenatesInGroupOrder() {
    SimTensor[] in = {f32(new float[] {1, 2}, 1, 2), f32(new float[] {3, 4}, 1, 2),
        f32(new float[] {5, 6}, 1, 2)};
    SimTensor[] out = {zeros(DType.F32, 3, 2), zeros(DType.F32, 3, 2), zeros(DType.F32, 3, 2)};
    SimKernels.allGather(in, out);
    for (SimTensor o : out) {
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, read(o));
    }
  }

  @Test
  void reductionsSumInFp32InGroupOrderEvenInPlace() {
    // (1e8 + 1) + -1e8 in fp32 is 0, while 1e8 + (1 + -1e8) is not: the order is member order
    SimTensor[] in = {f32(new float[] {1e8f, 0}, 2), f32(new float[] {1, 2}, 2),
        f32(new float[] {-1e8f, 3}, 2)};
    SimKernels.allReduce(in, in);
    for (SimTensor t : in) {
      assertArrayEquals(new float[] {0, 5}, read(t));
    }
    SimTensor[] rsIn = {f32(new float[] {1, 2, 3, 4}, 4), f32(new float[] {10, 20, 30, 40}, 4)};
    SimTensor[] rsOut = {zeros(DType.F32, 2), zeros(DType.F32, 2)};
    SimKernels.reduceScatter(rsIn, rsOut);
    assertArrayEquals(new float[] {11, 22}, read(rsOut[0]));
    assertArrayEquals(new float[] {33, 44}, read(rsOut[1]));
  }

  @Test
  void bf16ReductionRoundsOnlyTheResult() {
    float big = 256, small = 1;  // 257 is not a bf16; 256 + 1 + 1 = 258 is
    SimTensor[] in = {SimFixtures.floats(DType.BF16, new float[] {big}, 1),
        SimFixtures.floats(DType.BF16, new float[] {small}, 1),
        SimFixtures.floats(DType.BF16, new float[] {small}, 1)};
    SimTensor[] out = {zeros(DType.BF16, 1), zeros(DType.BF16, 1), zeros(DType.BF16, 1)};
    SimKernels.allReduce(in, out);
    assertEquals(258f, read(out[2])[0]);
  }

  // ---- transformer ops -----------------------------------------------------------------------

  /** A row of 3 and 4: mean square 12.5, rstd 1/sqrt(12.5 + eps). */
  @Test
  void rmsNormOfAHandRow() {
    SimTensor x = f32(new float[] {3, 4}, 1, 2), y = zeros(DType.F32, 1, 2);
    SimTensor rstd = zeros(DType.F32, 1);
    SimKernels.rmsNorm(x, f32(new float[] {1, 2}, 2), 0.5f, y, rstd);
    float rs = (float) (1 / Math.sqrt(13.0));
    assertArrayEquals(new float[] {rs}, read(rstd));
    assertArrayEquals(new float[] {3 * rs, 4 * rs * 2}, read(y));
  }

  /**
   * The ops the whole model runs in place give what they give out of place: rmsNorm y = x,
   * causalSoftmax y = x, crossEntropyBackward dx = x, rmsNormBackward dx = dy (each row is read
   * before it is written).
   */
  @Test
  void inPlaceEqualsOutOfPlace() {
    SplittableRandom r = new SplittableRandom(7);
    float[] xs = new float[24], dys = new float[24];
    for (int i = 0; i < 24; i++) {
      xs[i] = (float) r.nextGaussian();
      dys[i] = (float) r.nextGaussian();
    }
    SimTensor gamma = f32(new float[] {1, -2, 0.5f, 3, 1, 1}, 6);
    SimTensor x = f32(xs, 4, 6), y = zeros(DType.F32, 4, 6), rstd = zeros(DType.F32, 4);
    SimKernels.rmsNorm(x, gamma, 1e-5f, y, rstd);
    SimTensor same = f32(xs, 4, 6);
    SimKernels.rmsNorm(same, gamma, 1e-5f, same, zeros(DType.F32, 4));
    assertArrayEquals(read(y), read(same), "rmsNorm");

    SimTensor dy = f32(dys, 4, 6), dx = zeros(DType.F32, 4, 6), dg = zeros(DType.F32, 6);
    SimKernels.rmsNormBackward(x, gamma, rstd, dy, dx, dg);
    SimTensor dyInPlace = f32(dys, 4, 6), dg2 = zeros(DType.F32, 6);
    SimKernels.rmsNormBackward(x, gamma, rstd, dyInPlace, dyInPlace, dg2);
    assertArrayEquals(read(dx), read(dyInPlace), "rmsNormBackward dx");
    assertArrayEquals(read(dg), read(dg2), "rmsNormBackward dGamma");

    SimTensor s3 = f32(xs, 2, 3, 4), y3 = zeros(DType.F32, 2, 3, 4);
    SimKernels.causalSoftmax(s3, 0.5f, 1, y3);
    SimTensor s3InPlace = f32(xs, 2, 3, 4);
    SimKernels.causalSoftmax(s3InPlace, 0.5f, 1, s3InPlace);
    assertArrayEquals(read(y3), read(s3InPlace), "causalSoftmax");

    SimTensor lse = f32(new float[] {2, 2, 2, 2}, 4), t = i32(new int[] {0, 5, 9, -1}, 4);
    SimTensor ce = zeros(DType.F32, 4, 6), ceInPlace = f32(xs, 4, 6);
    SimKernels.crossEntropyBackward(x, lse, t, 0, 0.5f, ce);
    SimKernels.crossEntropyBackward(ceInPlace, lse, t, 0, 0.5f, ceInPlace);
    assertArrayEquals(read(ce), read(ceInPlace), "crossEntropyBackward");
  }

  @Test
  void logSumExpOfMinusInfinityOrNoColumnsIsMinusInfinity() {
    float inf = Float.NEGATIVE_INFINITY;
    SimTensor lse = zeros(DType.F32, 2);
    SimKernels.logSumExp(f32(new float[] {inf, inf, 0, inf}, 2, 2), lse);
    assertArrayEquals(new float[] {inf, 0}, read(lse));
    SimKernels.logSumExp(zeros(DType.F32, 2, 0), lse);
    assertArrayEquals(new float[] {inf, inf}, read(lse));
  }

  @Test
  void shiftByAnyOffsetIsAPermutation() {
    SimTensor[] in = {f32(new float[] {0}, 1), f32(new float[] {1}, 1), f32(new float[] {2}, 1)};
    for (int offset : new int[] {1, -1, 4, -5, 0, 3}) {
      SimTensor[] out = {zeros(DType.F32, 1), zeros(DType.F32, 1), zeros(DType.F32, 1)};
      SimKernels.shift(in, out, offset);
      for (int i = 0; i < 3; i++) {
        assertEquals(Math.floorMod(i - offset, 3), read(out[i])[0], "offset " + offset + " member " + i);
      }
    }
  }
}
