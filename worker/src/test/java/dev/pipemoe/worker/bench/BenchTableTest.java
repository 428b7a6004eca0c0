package dev.pipemoe.worker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.metrics.StepSplit;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchTableTest {

  static BenchRow row(String config, StepSplit split) {
    return new BenchRow(config, "serial", false, 1, 10, 12.0, 9.0, 2.0, 1.0, 3.5, 4.25, null, 25.0,
        null, 1.5, null, split);
  }

  @Test
  void aMoeStackPrintsNoWholeModelTableAndNoSplitInItsJson() {
    List<BenchRow> rows = List.of(row("serial", null));
    assertThat(BenchTable.wholeModelText(rows)).isEmpty();
    assertThat(BenchTable.json(rows)).doesNotContain("splitMillis");
  }

  @Test
  void aWholeModelPrintsItsTflopsAndItsSplitInMilliseconds() {
    StepSplit split = new StepSplit(0.004, 0.005, 0.001, 0.0005, 0.0003, 0.0012, 0);
    List<BenchRow> rows = List.of(row("serial", split));
    String text = BenchTable.wholeModelText(rows);
    assertThat(text).contains("attention", "moe_compute", "exposed_comm", "dp_reduction",
        "optimizer", "other", "idle");
    assertThat(text.lines().filter(l -> l.startsWith("| serial")).findFirst().orElseThrow())
        .contains("3.5", "4.25", "4.000", "5.000", "1.000", "0.500", "0.300", "1.200", "0.000");
    assertThat(BenchTable.json(rows)).contains("\"splitMillis\": {\"attention\": 4.000000,"
        + " \"moe_compute\": 5.000000");
  }
}
