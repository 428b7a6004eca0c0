package dev.pipemoe.nativebridge;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The native runtime's own wording of its refusals. That every device refuses these calls with the
 * right code, naming the op and the operand, is the Device contract suite's
 * (NativeDeviceContractTest); this holds the C library's messages, which callers see in logs.
 */
class StreamsAndErrorsTest {

  @Test
  void refusalsSayTheRuleInTheLibrarysWords() {
    try (NativeFabric f = NativeFabric.open(2, LinkModel.unmodelled())) {
      Device d = f.device(0);
      Stream s = d.computeStream();
      Tensor a = d.alloc(DType.F32, 3, 4), b = d.alloc(DType.F32, 5, 2), c = d.alloc(DType.F32, 3, 2);
      assertThatThrownBy(() -> d.gemm(s, false, false, 1f, a, b, 0f, c)).isInstanceOf(DeviceException.class)
          .hasMessage("pm_gemm: op(a) is [3,4] but op(b) is [5,2]: inner dimensions differ");
      assertThatThrownBy(() -> d.add(s, a, null, a)).hasMessageContaining("y is the null handle")
          .extracting(t -> ((DeviceException) t).code()).isEqualTo(2);
      Tensor gone = d.alloc(DType.F32, 3, 4);
      gone.close();
      assertThatThrownBy(() -> d.scale(s, 2f, gone)).hasMessageContaining("was freed");
      Tensor foreign = f.device(1).alloc(DType.F32, 3, 4);
      assertThatThrownBy(() -> d.scale(s, 2f, foreign)).hasMessageContaining("belongs to another device");
      assertThatThrownBy(() -> d.readInts(a)).hasMessageContaining("use the float[] variant");
      Communicator comm = d.newCommunicator("tp", new int[] {0, 1}, 0);
      // the Device contract does not forbid it; the native runtime runs only collectives there
      assertThatThrownBy(() -> d.scale(comm.queue(), 1f, a)).hasMessageContaining("communicator's queue");
      assertThatThrownBy(() -> d.allGather(s, comm, a, a, null)).hasMessageContaining("all-gather needs out dim 0");
      assertThatThrownBy(() -> d.newCommunicator("x", new int[] {1}, 0))
          .hasMessageContaining("rank 0 is not among the ranks");
    }
  }
}
