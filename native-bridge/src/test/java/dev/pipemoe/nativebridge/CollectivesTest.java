package dev.pipemoe.nativebridge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Collectives on rank threads of one JVM, as the engine drives them. */
class CollectivesTest {

  /** Runs body(rank) on one thread per rank and returns their results; a rank's failure fails the test. */
  static <T> List<T> onRanks(int n, IntFunction<T> body) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<T>> fs = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        int rank = r;
        fs.add(pool.submit(() -> body.apply(rank)));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : fs) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Multiples of 1/4 below 64: exact in BF16, and their sums exact in fp32. */
  static float val(int rank, int i) {
    return (rank * 8 + i % 13) * 0.25f;
  }

  static int[] iota(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 4, 8})
  void allFourCollectivesMoveTheRightData(int p) throws Exception {
    int b = 3, m = 5;
    try (NativeFabric f = NativeFabric.open(p, LinkModel.unmodelled())) {
      for (DType dt : new DType[] {DType.F32, DType.BF16}) {
        List<Integer> wrong = onRanks(p, r -> {
          Device d = f.device(r);
          Stream s = d.computeStream();
          try (Communicator c = d.newCommunicator("g-" + dt, iota(p), 0)) {
            float[] x = new float[p * b * m];
            for (int i = 0; i < x.length; i++) {
              x[i] = val(r, i);
            }
            Tensor in = d.alloc(dt, p * b, m), a2a = d.alloc(dt, p * b, m), ag = d.alloc(dt, p * p * b, m);
            Tensor rs = d.alloc(dt, b, m), ar = d.alloc(dt, p * b, m);
            d.write(in, x);
            d.allToAll(s, c, in, a2a, null);
            d.allGather(s, c, in, ag, null);
            d.reduceScatter(s, c, in, rs, null);
            d.allReduce(s, c, in, ar, null);
            d.synchronize();
            float[] A = d.readFloats(a2a), G = d.readFloats(ag), R = d.readFloats(rs), S = d.readFloats(ar);
            int bad = 0, blk = b * m;
            for (int j = 0; j < p; j++) {
              for (int e = 0; e < blk; e++) {
                bad += A[j * blk + e] != val(j, r * blk + e) ? 1 : 0;
              }
              for (int e = 0; e < p * blk; e++) {
                bad += G[j * p * blk + e] != val(j, e) ? 1 : 0;
              }
            }
            for (int e = 0; e < p * blk; e++) {
              float sum = 0;
              for (int j = 0; j < p; j++) {
                sum += val(j, e);
              }
              bad += S[e] != sum ? 1 : 0;
              if (e >= r * blk && e < (r + 1) * blk) {
                bad += R[e - r * blk] != sum ? 1 : 0;
              }
            }
            return bad;
          }
        });
        assertThat(wrong).as("wrong values per rank, %d ranks, %s", p, dt).containsOnly(0);
      }
    }
  }

  @Test
  void capacitySliceAllToAllAndTimelineRecords() throws Exception {
    int p = 2, cap = 6, c0 = 2, c = 3, m = 4;
    double bandwidth = 50e6, latency = 2e-3;
    LinkModel model = new LinkModel(1.0, List.of(new LinkModel.Link(0, bandwidth, latency)));
    try (NativeFabric f = NativeFabric.open(p, model)) {
      List<List<OpRecord>> timelines = onRanks(p, r -> {
        Device d = f.device(r);
        Stream s = d.computeStream();
        Communicator ep = d.newCommunicator("ep", iota(p), 0);
        Tensor in = d.alloc(DType.F32, p, cap, m), out = d.alloc(DType.F32, p, cap, m);
        float[] x = new float[p * cap * m];
        for (int i = 0; i < x.length; i++) {
          x[i] = val(r, i);
        }
        d.write(in, x);
        long[] shape = {p, c, m}, strides = {cap * m, m, 1};
        Event done = d.newEvent();
        d.label("dispatch");
        d.allToAll(s, ep, d.view(in, c0 * m, shape, strides), d.view(out, c0 * m, shape, strides), done);
        d.label(null);
        d.waitEvent(s, done);
        d.synchronize();
        float[] got = d.readFloats(out);
        for (int j = 0; j < p; j++) {
          for (int cc = 0; cc < cap; cc++) {
            for (int e = 0; e < m; e++) {
              float want = cc >= c0 && cc < c0 + c ? val(j, (r * cap + cc) * m + e) : 0f;
              assertThat(got[(j * cap + cc) * m + e]).isEqualTo(want);
            }
          }
        }
        return d.drainTimeline();
      });
      for (List<OpRecord> t : timelines) {
        OpRecord a2a = t.stream().filter(o -> o.op().equals("all_to_all")).findFirst().orElseThrow();
        long bytes = (long) p * c * m * 4 / 2;
        assertThat(a2a.stream()).isEqualTo("comm:ep");
        assertThat(a2a.label()).isEqualTo("dispatch");
        assertThat(a2a.bytes()).isEqualTo(bytes);
        double modelled = latency + bytes / bandwidth;
        assertThat(a2a.modelledNanos() * 1e-9).isCloseTo(modelled, org.assertj.core.data.Offset.offset(1e-4));
        // paced: never faster than the model (how close it comes is RuntimeBench's figure)
        assertThat(a2a.durationNanos()).isGreaterThanOrEqualTo((long) (a2a.modelledNanos() * 0.999));
      }
    }
  }
}
