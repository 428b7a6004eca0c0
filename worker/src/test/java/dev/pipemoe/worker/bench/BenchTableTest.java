package dev.pipemoe.worker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.metrics.StepSplit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchTableTest {

  static BenchRow row(String config, StepSplit split) {
    return new BenchRow(config, "serial", false, 1, 10, 12.0, 9.0, 2.0, 1.0, 3.5, 4.25, null, 25.0,
        null, 1.5, null, split, split == null ? null
            : BenchRow.LossTrend.of(List.of(5.0, 4.0, 3.0, 3.0, 2.0, 1.0)));
  }

  @Test
  void theLossTrendAveragesTheFirstAndLastTwentyStepsOrHalfTheRun() {
    BenchRow.LossTrend six = BenchRow.LossTrend.of(List.of(5.0, 4.0, 3.0, 3.0, 2.0, 1.0));
    assertThat(six.window()).isEqualTo(3);
    assertThat(six.first()).isEqualTo(4.0);
    assertThat(six.last()).isEqualTo(2.0);
    assertThat(six.last() / six.first()).isEqualTo(0.5);
    List<Double> run = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      run.add(i < 20 ? 6.0 : i >= 80 ? 2.0 : 4.0);
    }
    BenchRow.LossTrend hundred = BenchRow.LossTrend.of(run);
    assertThat(hundred.window()).isEqualTo(20);
    assertThat(hundred.first()).isEqualTo(6.0);
    assertThat(hundred.last()).isEqualTo(2.0);
    assertThat(BenchRow.LossTrend.of(List.of(3.0))).isNull();
  }

  @Test
  void aMoeStackPrintsNoWholeModelTableAndNoSplitInItsJson() {
    List<BenchRow> rows = List.of(row("serial", null));
    assertThat(BenchTable.wholeModelText(rows)).isEmpty();
    assertThat(BenchTable.json(rows)).doesNotContain("splitMillis").doesNotContain("lossTrend");
  }

  @Test
  void aWholeModelPrintsItsTflopsAndItsSplitInMilliseconds() {
    StepSplit split = new StepSplit(0.004, 0.005, 0.001, 0.0005, 0.0003, 0.0012, 0);
    List<BenchRow> rows = List.of(row("serial", split));
    String text = BenchTable.wholeModelText(rows);
    assertThat(text).contains("attention", "moe_compute", "exposed_comm", "dp_reduction",
        "optimizer", "other", "idle");
    assertThat(text.lines().filter(l -> l.startsWith("| serial")).findFirst().orElseThrow())
        .contains("3.5", "4.25", "4.000 -> 2.000 (3)", "4.000", "5.000", "1.000", "0.500", "0.300",
            "1.200", "0.000");
    assertThat(BenchTable.json(rows)).contains("\"lossTrend\": {\"window\": 3, \"firstMean\": 4.0000000,"
        + " \"lastMean\": 2.0000000}");
    assertThat(BenchTable.json(rows)).contains("\"splitMillis\": {\"attention\": 4.000000,"
        + " \"moe_compute\": 5.000000");
  }
}
