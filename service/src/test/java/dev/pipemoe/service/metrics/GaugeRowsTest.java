package dev.pipemoe.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A row that stays keeps its meter across updates (a scrape never finds it missing); values change
 * in place; rows no longer listed end, new ones begin.
 */
class GaugeRowsTest {

  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final GaugeRows rows = new GaugeRows(MultiGauge.builder("test.rows").register(registry));

  Gauge gauge(String job) {
    return registry.find("test.rows").tags("job", job).gauge();
  }

  @Test
  void aRowThatStaysKeepsItsMeterAndTakesTheNewValue() {
    rows.update(Map.of(Tags.of("job", "a"), 1.5, Tags.of("job", "b"), 2.0));
    Gauge a = gauge("a");
    assertThat(a.value()).isEqualTo(1.5);

    rows.update(Map.of(Tags.of("job", "a"), 3.25, Tags.of("job", "c"), 7L));

    assertThat(gauge("a")).as("the same meter, never removed").isSameAs(a);
    assertThat(a.value()).isEqualTo(3.25);
    assertThat(gauge("b")).as("b ended").isNull();
    assertThat(gauge("c").value()).isEqualTo(7.0);
    assertThat(registry.find("test.rows").gauges()).hasSize(2);
  }

  @Test
  void anEmptyUpdateEndsEveryRow() {
    rows.update(Map.of(Tags.of("job", "a"), 1));
    rows.update(Map.of());
    assertThat(registry.find("test.rows").gauges()).isEmpty();
  }
}
