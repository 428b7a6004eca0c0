package dev.pipemoe.engine.sim;

import static dev.pipemoe.engine.sim.SimFixtures.DEVICE;
import static dev.pipemoe.engine.sim.SimFixtures.view;
import static dev.pipemoe.engine.sim.SimFixtures.zeros;
import static dev.pipemoe.engine.testing.Gen.intIn;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.Distribution;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.testing.Property;
import java.util.SplittableRandom;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** The simulated device refuses what the native runtime refuses, with its codes and messages. */
class SimChecksTest {

  private static void refused(ThrowingCallable call, int code, String message) {
    assertThatThrownBy(call).isInstanceOf(DeviceException.class).hasMessage(message)
        .satisfies(e -> assertEquals(code, ((DeviceException) e).code(), "status code"));
  }

  private static void refused(ThrowingCallable call, String message) {
    refused(call, SimChecks.ERR_ARG, message);
  }

  private static SimTensor f32(long... shape) {
    return zeros(DType.F32, shape);
  }

  private static SimTensor i32(long... shape) {
    return zeros(DType.I32, shape);
  }

  // ---- handles ---------------------------------------------------------------------------------

  @Test
  void freedForeignAndMissingTensorsAreHandleErrors() {
    SimTensor a = f32(2, 3);
    a.close();
    refused(() -> SimChecks.gemm(DEVICE, false, false, 1, a, f32(3, 2), 0, f32(2, 2)),
        SimChecks.ERR_HANDLE, "gemm: a (F32 [2,3]) was freed");
    SimTensor other = new SimTensor(1, DType.F32, new long[] {2}, new long[] {1}, 0,
        SimTensor.Storage.of(DType.F32, 2, false));
    refused(() -> SimChecks.scale(DEVICE, 2, other), SimChecks.ERR_HANDLE,
        "scale: x belongs to another device than the stream (rank 0)");
    refused(() -> SimChecks.fill(DEVICE, null, 0), SimChecks.ERR_HANDLE, "fill: t is null");
    Tensor alien = new Tensor() {
      public DType dtype() {
        return DType.F32;
      }

      public long[] shape() {
        return new long[] {1};
      }

      public long[] strides() {
        return new long[] {1};
      }

      public void close() {}
    };
    assertThatThrownBy(() -> SimChecks.copy(DEVICE, alien, f32(1)))
        .hasMessageEndingWith(", not a tensor of the simulated device");
  }

  // ---- GEMM ------------------------------------------------------------------------------------

  @Test
  void gemmNamesTheRuleItBreaks() {
    refused(() -> SimChecks.gemm(DEVICE, false, false, 1, f32(2, 3), f32(4, 2), 0, f32(2, 2)),
        "gemm: op(a) is [2,3] but op(b) is [4,2]: inner dimensions differ");
    refused(() -> SimChecks.gemm(DEVICE, true, false, 1, f32(2, 3), f32(2, 2), 0, f32(2, 2)),
        "gemm: op(a) op(b) is [3,2] but c is [2,2]");
    refused(() -> SimChecks.gemm(DEVICE, false, false, 1, f32(2, 3), f32(3, 2), 0, f32(4)),
        "gemm: c is [4] but must be rank 2 or 3");
    refused(() -> SimChecks.gemm(DEVICE, false, false, 1, f32(1, 2, 3), f32(3, 2), 0, f32(2, 2)),
        "gemm: a is [1,2,3] (rank 3) but must be rank 2");
    refused(() -> SimChecks.gemm(DEVICE, false, false, 1, f32(3, 2, 3), f32(2, 3, 2), 0,
        f32(2, 2, 2)), "gemm: a is [3,2,3] but dimension 0 must be 2 (c's batch count)");
    SimTensor sharedC = view(f32(2, 2), 0, new long[] {2, 2, 2}, new long[] {0, 2, 1});
    refused(() -> SimChecks.gemm(DEVICE, false, false, 1, f32(2, 2, 3), f32(2, 3, 2), 0, sharedC),
        "gemm: c has batch stride 0: batches would overwrite each other");
    SimTensor overlapping = view(f32(8), 0, new long[] {2, 3}, new long[] {2, 1});
    refused(() -> SimChecks.gemm(DEVICE, false, false, 1, overlapping, f32(3, 2), 0, f32(2, 2)),
        "gemm: a has row stride 2 < 3 columns: rows must not overlap");
    refused(() -> SimChecks.gemm(DEVICE, false, false, 1, zeros(DType.BF16, 2, 3), f32(3, 2), 0,
        f32(2, 2)), "gemm: a is BF16 [2,3] but must be F32");
    SimTensor broadcastB = view(f32(3, 2), 0, new long[] {2, 3, 2}, new long[] {0, 2, 1});
    assertThatCode(() -> SimChecks.gemm(DEVICE, false, false, 1, f32(2, 2, 3), broadcastB, 0,
        f32(2, 2, 2))).doesNotThrowAnyException();
  }

  @Test
  void gemmAcceptsExactlyAgreeingShapes() {
    Property.forAll(500, r -> r.nextLong(), seed -> {
      SplittableRandom r = new SplittableRandom(seed);
      int rank = intIn(r, 2, 3);
      long[] a = dims(r, rank), b = dims(r, rank), c = dims(r, rank);
      boolean ta = r.nextBoolean(), tb = r.nextBoolean();
      int i = rank - 2;
      boolean agree = (rank == 2 || a[0] == c[0] && b[0] == c[0])
          && a[ta ? i : i + 1] == b[tb ? i + 1 : i]
          && c[i] == a[ta ? i + 1 : i] && c[i + 1] == b[tb ? i : i + 1];
      ThrowingCallable call = () -> SimChecks.gemm(DEVICE, ta, tb, 1, f32(a), f32(b), 0, f32(c));
      if (agree) {
        assertThatCode(call).doesNotThrowAnyException();
      } else {
        assertThatThrownBy(call).isInstanceOf(DeviceException.class).hasMessageStartingWith("gemm: ");
      }
    });
  }

  private static long[] dims(SplittableRandom r, int rank) {
    long[] d = new long[rank];
    for (int i = 0; i < rank; i++) {
      d[i] = intIn(r, 1, 2);
    }
    return d;
  }

  // ---- elementwise, fill, random, copy ---------------------------------------------------------

  @Test
  void elementwiseOperandsAreF32OfOneShape() {
    refused(() -> SimChecks.add(DEVICE, f32(2), f32(3), f32(2)),
        "add: x is [2] but y is [3]: shapes must be equal");
    refused(() -> SimChecks.swigluBackward(DEVICE, f32(2), f32(2), f32(2), f32(2), f32(1, 2)),
        "swigluBackward: a is [2] but db is [1,2]: shapes must be equal");
    refused(() -> SimChecks.gelu(DEVICE, i32(2), f32(2)), "gelu: x is I32 [2] but must be F32");
    refused(() -> SimChecks.mseLoss(DEVICE, f32(2), f32(2), 1, f32(2), f32(2)),
        "mseLoss: loss is [2] but dimension 0 must be 1 (one value)");
  }

  @Test
  void randomAndCopyRules() {
    refused(() -> SimChecks.random(DEVICE, i32(2), 0, Distribution.UNIFORM, 0, 1),
        "random: t is I32 [2] but must be F32 or BF16");
    refused(() -> SimChecks.random(DEVICE, f32(2), 0, Distribution.UNIFORM, Float.NaN, 1),
        "random: a is nan but must be finite");
    refused(() -> SimChecks.random(DEVICE, f32(2), 0, Distribution.UNIFORM, 2, 1),
        "random: UNIFORM needs a <= b, got [2, 1)");
    refused(() -> SimChecks.random(DEVICE, f32(2), 0, Distribution.NORMAL, 0, -0.5f),
        "random: NORMAL needs std b >= 0, got -0.5");
    refused(() -> SimChecks.copy(DEVICE, i32(2), f32(2)),
        "copy: src is I32 but dst is F32: only F32 <-> BF16 casts exist");
    refused(() -> SimChecks.copy(DEVICE, f32(2), f32(2, 1)),
        "copy: src is [2] but dst is [2,1]: shapes must be equal");
    assertThatCode(() -> SimChecks.copy(DEVICE, f32(2), zeros(DType.BF16, 2)))
        .doesNotThrowAnyException();
  }

  @Test
  void adamParameters() {
    refused(() -> SimChecks.adam(DEVICE, f32(2), f32(2), f32(2), f32(2), AdamParams.of(0.1f), 0),
        "adam: step is 0 but counts from 1");
    refused(() -> SimChecks.adam(DEVICE, f32(2), f32(2), f32(2), f32(2),
        new AdamParams(0.1f, 1, 0.999f, 1e-8f, 0), 1),
        "adam: beta1 1 and beta2 0.999 must be in [0, 1)");
    refused(() -> SimChecks.adam(DEVICE, f32(2), f32(2), f32(2), f32(2),
        new AdamParams(0.1f, 0.9f, 0.999f, 0, 1e-5f), 1),
        "adam: need eps > 0, lr >= 0, weight_decay >= 0; got 0, 0.1, 1e-05");
  }

  // ---- rows and routing ------------------------------------------------------------------------

  @Test
  void rowOpsWantRank2AndI32Indices() {
    refused(() -> SimChecks.softmax(DEVICE, f32(2, 3, 1), f32(2, 3, 1)),
        "softmax: x is [2,3,1] (rank 3) but must be rank 2");
    refused(() -> SimChecks.topk(DEVICE, f32(2, 3), 0, f32(2, 1), i32(2, 1)),
        "topk: k is 0 but x is [2,3]: k must be in 1..3");
    refused(() -> SimChecks.topk(DEVICE, f32(2, 3), 1, f32(2, 1), f32(2, 1)),
        "topk: indices is F32 [2,1] but must be I32");
    refused(() -> SimChecks.topk(DEVICE, f32(2, 3), 2, f32(2, 1), i32(2, 2)),
        "topk: values is [2,1] but dimension 1 must be 2 (k)");
    refused(() -> SimChecks.topkBackward(DEVICE, f32(2, 2), i32(2, 2), f32(3, 4)),
        "topkBackward: dx is [3,4] but dimension 0 must be 2 (dvalues' rows)");
    refused(() -> SimChecks.gatherRows(DEVICE, f32(4, 2), i32(3, 1), null, 0, f32(2, 2)),
        "gatherRows: index is [3,1] but dimension 0 must be 2 (dst's rows)");
    refused(() -> SimChecks.gatherRows(DEVICE, f32(4, 2), i32(2, 2), f32(2, 1), 0, f32(2, 2)),
        "gatherRows: weights is [2,1] but index is [2,2]: shapes must be equal");
    refused(() -> SimChecks.scatterAddRows(DEVICE, f32(2, 2), i32(2, 1), null, f32(4, 3)),
        "scatterAddRows: dst is [4,3] but dimension 1 must be 2 (src's columns)");
    refused(() -> SimChecks.gatherDot(DEVICE, f32(2, 2), f32(4, 2), i32(2, 2), f32(2, 1)),
        "gatherDot: out is [2,1] but index is [2,2]: shapes must be equal");
  }

  @Test
  void routingRules() {
    refused(() -> SimChecks.moeRoute(DEVICE, i32(4, 2), i32(3), -1, i32(4, 2), i32(0), i32(1)),
        "moeRoute: capacity is -1 but must be >= 0");
    refused(() -> SimChecks.moeRoute(DEVICE, i32(4, 2), i32(3), 2, i32(4, 2), i32(5), i32(1)),
        "moeRoute: slot_token is [5] but dimension 0 must be 6 (experts * capacity)");
    refused(() -> SimChecks.moeRoute(DEVICE, i32(4, 2), f32(3), 2, i32(4, 2), i32(6), i32(1)),
        "moeRoute: expert_row is F32 [3] but must be I32");
    refused(() -> SimChecks.moeGateWeights(DEVICE, f32(2, 3), i32(2, 3), f32(2, 3)),
        "moeGateWeights: values is [2,3] but k must be 1 or 2");
    refused(() -> SimChecks.moeGateWeightsBackward(DEVICE, f32(2, 2), i32(2, 2), f32(2, 2),
        f32(2, 1)), "moeGateWeightsBackward: dvalues is [2,1] but values is [2,2]: shapes must be equal");
    refused(() -> SimChecks.moeAuxLoss(DEVICE, f32(2, 3), i32(2, 0), 0.01f, f32(1), f32(2, 3)),
        "moeAuxLoss: indices is [2,0] but needs k >= 1");
  }

  // ---- collectives -----------------------------------------------------------------------------

  @Test
  void collectiveShapesPerKind() {
    refused(() -> SimChecks.allToAll(DEVICE, f32(5, 2), f32(5, 2), 2),
        "allToAll: in is [5,2], out is [5,2], group size 2: all-to-all needs equal shapes with dim 0"
            + " divisible by the group size");
    refused(() -> SimChecks.allGather(DEVICE, f32(2, 2), f32(2, 2), 2),
        "allGather: in is [2,2], out is [2,2], group size 2: all-gather needs out dim 0 = group size"
            + " * in dim 0");
    refused(() -> SimChecks.reduceScatter(DEVICE, f32(4, 2), f32(4, 2), 2),
        "reduceScatter: in is [4,2], out is [4,2], group size 2: reduce-scatter needs in dim 0 ="
            + " group size * out dim 0");
    refused(() -> SimChecks.allReduce(DEVICE, f32(4), f32(2), 2),
        "allReduce: in is [4], out is [2], group size 2: all-reduce needs equal shapes");
    refused(() -> SimChecks.allReduce(DEVICE, f32(2, 3), f32(2, 4), 2),
        "allReduce: in is [2,3] but out is [2,4]: dimensions past 0 must be equal");
    refused(() -> SimChecks.allReduce(DEVICE, f32(2), f32(2, 1), 2),
        "allReduce: in is [2] but out is [2,1]: ranks differ");
    refused(() -> SimChecks.allReduce(DEVICE, f32(), f32(), 1),
        "allReduce: in is [] but must have rank >= 1");
    refused(() -> SimChecks.allToAll(DEVICE, i32(2), i32(2), 2),
        "allToAll: in is I32 [2] but must be F32 or BF16");
    refused(() -> SimChecks.allGather(DEVICE, f32(2), zeros(DType.BF16, 4), 2),
        "allGather: in is F32 but out is BF16: dtypes must be equal");
    assertThatCode(() -> {
      SimChecks.allToAll(DEVICE, f32(4, 3), f32(4, 3), 2);
      SimChecks.allGather(DEVICE, f32(2, 3), f32(4, 3), 2);
      SimChecks.reduceScatter(DEVICE, zeros(DType.BF16, 4, 3), zeros(DType.BF16, 2, 3), 2);
      SimChecks.allReduce(DEVICE, f32(4, 3), f32(4, 3), 2);
    }).doesNotThrowAnyException();
  }

  // ---- memory ----------------------------------------------------------------------------------

  @Test
  void viewsStayInsideTheStorageAndOnlyLogSumExpTakesATransposedOne() {
    SimTensor base = f32(4, 4);
    assertThatCode(() -> SimChecks.view(base, 0, new long[] {4, 4}, new long[] {1, 4}))
        .doesNotThrowAnyException();  // transposed
    SimTensor transposed = view(base, 0, new long[] {4, 4}, new long[] {1, 4});
    assertThatCode(() -> SimChecks.logSumExp(DEVICE, transposed, f32(4)))
        .doesNotThrowAnyException();
    refused(() -> SimChecks.softmax(DEVICE, transposed, f32(4, 4)),
        "softmax: x has innermost stride 4 but must have 1 (only logSumExp reads a transposed"
            + " view)");
    refused(() -> SimChecks.allReduce(DEVICE, f32(4, 4), transposed, 2),
        "allReduce: out has innermost stride 4 but must have 1 (only logSumExp reads a transposed"
            + " view)");
    refused(() -> SimChecks.readFloats(transposed),
        "readFloats: t has innermost stride 4 but must have 1 (only logSumExp reads a transposed"
            + " view)");
    assertThatCode(() -> SimChecks.view(base, 0, new long[] {4, 1}, new long[] {4, 3}))
        .doesNotThrowAnyException();  // one column: its stride is never used
    refused(() -> SimChecks.view(base, 1, new long[] {4, 4}, new long[] {4, 1}),
        "view: the view reaches element 16 but base's storage has 16 elements");
    refused(() -> SimChecks.view(base, -1, new long[] {1}, new long[] {1}),
        "view: offset -1 points before the storage");
    refused(() -> SimChecks.view(base, 0, new long[] {2, -1}, new long[] {4, 1}),
        "view: shape[1] is -1 but must be >= 0");
    refused(() -> SimChecks.view(base, 0, new long[] {2}, new long[] {4, 1}),
        "view: shape has 1 dimensions and strides 2; they must match and be at most 4");
    assertThatCode(() -> SimChecks.view(base, 16, new long[] {0, 4}, new long[] {4, 1}))
        .doesNotThrowAnyException();  // empty: touches nothing
  }

  @Test
  void allocAndHostIo() {
    refused(() -> SimChecks.alloc(DType.F32, new long[] {1, 1, 1, 1, 1}),
        "alloc: 5 dimensions, at most 4");
    refused(() -> SimChecks.alloc(DType.F32, new long[] {2, -3}),
        "alloc: shape[1] is -3 but must be in 0..2^40");
    refused(() -> SimChecks.alloc(DType.F32, new long[] {1L << 21, 1L << 20}),
        "alloc: the tensor has more than 2^40 elements");
    refused(() -> SimChecks.write(f32(2, 2), new float[3]),
        "write(float[]): count is 3 but t is [2,2] (4 elements)");
    refused(() -> SimChecks.write(f32(2), new int[2]),
        "write(int[]): the tensor is F32; use the float[] variant");
    refused(() -> SimChecks.readFloats(i32(2)), "readFloats: the tensor is I32; use the int[] variant");
    assertThatCode(() -> SimChecks.readInts(i32(2))).doesNotThrowAnyException();
  }

  @Test
  void numbersPrintAsCPrintfG() {
    assertEquals("1e-05", SimChecks.g(1e-5f));
    assertEquals("0.0001", SimChecks.g(1e-4));
    assertEquals("0.1", SimChecks.g(0.1f));
    assertEquals("1.23457e+08", SimChecks.g(123456789));
    assertEquals("100000", SimChecks.g(1e5));
    assertEquals("1e+06", SimChecks.g(999999.5));
    assertEquals("-2.5", SimChecks.g(-2.5));
    assertEquals("-inf", SimChecks.g(Float.NEGATIVE_INFINITY));
    assertEquals("1e+100", SimChecks.g(1e100));
  }
}
