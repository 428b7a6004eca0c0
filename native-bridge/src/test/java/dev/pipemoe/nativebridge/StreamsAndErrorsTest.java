package dev.pipemoe.nativebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Events order streams; bad input is a DeviceException naming the problem, and the device lives on. */
class StreamsAndErrorsTest {

  @Test
  void eventsOrderStreamsAndTimelinesShowIt() {
    try (NativeFabric f = NativeFabric.open(1, LinkModel.unmodelled())) {
      Device d = f.device(0);
      Stream s = d.computeStream(), side = d.newStream("side");
      Event never = d.newEvent(), e = d.newEvent();
      assertThat(d.query(never)).isTrue();
      d.waitEvent(side, never);  // a no-op
      Tensor a = d.alloc(DType.F32, 256, 256), x = d.alloc(DType.F32, 256, 256);
      d.fill(s, a, 1f);
      d.label("big");
      d.gemm(s, false, false, 1f, a, a, 0f, x);  // x = 256 everywhere
      d.record(e, s);
      d.label("after");
      d.waitEvent(side, e);
      d.scale(side, 0.5f, x);
      d.synchronize(side);
      assertThat(d.readFloats(x)[65535]).isEqualTo(128f);
      List<OpRecord> t = d.drainTimeline();
      OpRecord gemm = t.stream().filter(r -> r.op().equals("gemm")).findFirst().orElseThrow();
      OpRecord scale = t.stream().filter(r -> r.op().equals("scale")).findFirst().orElseThrow();
      assertThat(gemm.stream()).isEqualTo("compute");
      assertThat(gemm.label()).isEqualTo("big");
      assertThat(scale.stream()).isEqualTo("side");
      assertThat(scale.label()).isEqualTo("after");
      assertThat(scale.startNanos()).isGreaterThanOrEqualTo(gemm.endNanos());
      assertThat(d.drainTimeline()).isEmpty();
    }
  }

  @Test
  void badInputThrowsClearlyAndTheDeviceKeepsWorking() {
    try (NativeFabric f = NativeFabric.open(2, LinkModel.unmodelled())) {
      Device d = f.device(0);
      Stream s = d.computeStream();
      Tensor a = d.alloc(DType.F32, 3, 4), b = d.alloc(DType.F32, 5, 2), c = d.alloc(DType.F32, 3, 2);
      assertThatThrownBy(() -> d.gemm(s, false, false, 1f, a, b, 0f, c)).isInstanceOf(DeviceException.class)
          .hasMessage("pm_gemm: op(a) is [3,4] but op(b) is [5,2]: inner dimensions differ");
      Tensor h = d.alloc(DType.BF16, 3, 4);
      assertThatThrownBy(() -> d.gelu(s, h, a)).hasMessageContaining("x is BF16 [3,4] but must be F32");
      assertThatThrownBy(() -> d.add(s, a, null, a)).hasMessageContaining("y is the null handle")
          .extracting(t -> ((DeviceException) t).code()).isEqualTo(2);
      Tensor gone = d.alloc(DType.F32, 3, 4);
      gone.close();
      gone.close();  // idempotent
      assertThatThrownBy(() -> d.scale(s, 2f, gone)).hasMessageContaining("was freed");
      Tensor foreign = f.device(1).alloc(DType.F32, 3, 4);
      assertThatThrownBy(() -> d.scale(s, 2f, foreign)).hasMessageContaining("belongs to another device");
      assertThatThrownBy(() -> d.write(a, new float[5])).hasMessageContaining("count is 5 but t is [3,4]");
      assertThatThrownBy(() -> d.readInts(a)).hasMessageContaining("use the float[] variant");
      Communicator comm = d.newCommunicator("tp", new int[] {0, 1}, 0);
      assertThatThrownBy(() -> d.scale(comm.queue(), 1f, a)).hasMessageContaining("communicator's queue");
      assertThatThrownBy(() -> d.allGather(s, comm, a, a, null)).hasMessageContaining("all-gather needs out dim 0");
      assertThatThrownBy(() -> d.newCommunicator("x", new int[] {1}, 0))
          .hasMessageContaining("rank 0 is not among the ranks");
      // a data error (index out of range) poisons the stream until synchronize reports it once
      Tensor idx = d.alloc(DType.I32, 2, 1), dst = d.alloc(DType.F32, 2, 4);
      d.write(idx, new int[] {1, 9});
      d.gatherRows(s, a, idx, null, 0f, dst);
      assertThatThrownBy(d::synchronize).hasMessageContaining("index[1,0] = 9 but src has 3 rows");
      // the JVM and the device live on
      d.fill(s, a, 2f);
      d.scale(s, 3f, a);
      d.synchronize();
      assertThat(d.readFloats(a)).containsOnly(6f);
    }
  }

  @Test
  void mismatchedCollectivesFailOnEveryRank() throws Exception {
    try (NativeFabric f = NativeFabric.open(2, LinkModel.unmodelled())) {
      List<String> errors = CollectivesTest.onRanks(2, r -> {
        Device d = f.device(r);
        Communicator c = d.newCommunicator("ep", new int[] {0, 1}, 0);
        Tensor x = d.alloc(DType.F32, 2, 3), y = d.alloc(DType.F32, 2, 3), g = d.alloc(DType.F32, 4, 3);
        if (r == 0) {
          d.allToAll(d.computeStream(), c, x, y, null);
        } else {
          d.allGather(d.computeStream(), c, x, g, null);
        }
        try {
          d.synchronize();
          return "no error";
        } catch (DeviceException e) {
          return e.code() + " " + e.getMessage();
        }
      });
      for (String e : errors) {
        assertThat(e).startsWith("4 ").contains("all_to_all").contains("all_gather");
      }
    }
  }
}
