package dev.pipemoe.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.device.OpRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

class IntervalsTest {

  @Test
  void overlapCountsOnceAndClippingApplies() {
    List<long[]> iv = List.of(new long[] {0, 10}, new long[] {5, 15}, new long[] {20, 30},
        new long[] {25, 26});
    assertThat(Intervals.unionLength(iv, 0, 100)).isEqualTo(25);
    assertThat(Intervals.unionLength(iv, 8, 22)).isEqualTo(9); // [8,15) + [20,22)
    assertThat(Intervals.unionLength(List.of(), 0, 10)).isZero();
  }

  @Test
  void stepTimesSplitBusyTimeByQueueAndExposeTheRest() {
    List<OpRecord> t = List.of(
        new OpRecord("compute", "gemm", "E0", 10, 40, 0, 0),
        new OpRecord("compute", "gemm", "E1", 50, 80, 0, 0),
        new OpRecord("comm:ep0", "all_to_all", "A0", 0, 12, 100, 12),
        new OpRecord("comm:ep0", "all_to_all", "CB0", 40, 55, 100, 15),
        new OpRecord("comm:tp0", "all_gather", "AG0", 5, 20, 50, 15),
        new OpRecord("comm:router", "all_reduce", "grad-sync", 85, 95, 10, 10));
    StepTimes s = StepTimes.of(t, 0, 100, "compute", "comm:ep0", "comm:tp0");
    assertThat(s.stepNanos()).isEqualTo(100);
    assertThat(s.computeBusyNanos()).isEqualTo(60);
    assertThat(s.epBusyNanos()).isEqualTo(27);
    assertThat(s.tpBusyNanos()).isEqualTo(15);
    assertThat(s.otherCommBusyNanos()).isEqualTo(10);
    assertThat(s.exposedCommNanos()).isEqualTo(40);
  }

  @Test
  void chromeTraceHasOneCompleteEventPerOp() {
    String json = ChromeTrace.json(java.util.Map.of(0, List.of(
        new OpRecord("compute", "gemm", "E\"0", 1000, 3000, 0, 0),
        new OpRecord("comm:ep0", "all_to_all", null, 2000, 2500, 64, 400))), 1000);
    assertThat(json).startsWith("{\"traceEvents\":[")
        .contains("{\"name\":\"E\\\"0 gemm\",\"cat\":\"gemm\",\"ph\":\"X\",\"pid\":0,"
            + "\"tid\":\"compute\",\"ts\":0.000,\"dur\":2.000}")
        .contains("\"args\":{\"bytes\":64,\"modelled_us\":0.400}");
  }
}
