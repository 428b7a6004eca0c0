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
import org.junit.jupiter.api.Test;

/**
 * The native fabric's link model, seen in the timelines of collectives run on rank threads of one
 * JVM, as the engine drives them. What collectives compute, match and refuse is the Device contract
 * suite's (NativeDeviceContractTest).
 */
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

  @Test
  void aCapacitySliceAllToAllRecordsItsBytesAndModelledTime() throws Exception {
    int p = 2, cap = 6, c0 = 2, c = 3, m = 4;
    double bandwidth = 50e6, latency = 2e-3;
    LinkModel model = new LinkModel(1.0, List.of(new LinkModel.Link(0, bandwidth, latency)));
    try (NativeFabric f = NativeFabric.open(p, model)) {
      List<List<OpRecord>> timelines = onRanks(p, r -> {
        Device d = f.device(r);
        Stream s = d.computeStream();
        Communicator ep = d.newCommunicator("ep", new int[] {0, 1}, 0);
        Tensor in = d.alloc(DType.F32, p, cap, m), out = d.alloc(DType.F32, p, cap, m);
        long[] shape = {p, c, m}, strides = {cap * m, m, 1};
        Event done = d.newEvent();
        d.label("dispatch");
        d.allToAll(s, ep, d.view(in, c0 * m, shape, strides), d.view(out, c0 * m, shape, strides), done);
        d.label(null);
        d.waitEvent(s, done);
        d.synchronize();
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
