package dev.pipemoe.service.metrics;

import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@link MultiGauge} whose rows keep their meter while they exist: an update sets the values in
 * place, adds new rows and removes the rows it no longer lists. MultiGauge's own overwrite removes
 * and re-registers every row on each update, so a scrape that fell between the two saw the series
 * missing: a gap in Grafana, and a test that failed now and then.
 */
final class GaugeRows {

  /** Read by the meter on each scrape, written by the refresh. */
  private static final class Value {
    volatile double value;
  }

  private final MultiGauge gauge;
  private final Map<Tags, Value> values = new HashMap<>();

  GaugeRows(MultiGauge gauge) {
    this.gauge = gauge;
  }

  /** The rows as they are now, each tag set with its value; rows not listed end. */
  synchronized void update(Map<Tags, ? extends Number> rows) {
    values.keySet().retainAll(rows.keySet());
    rows.forEach((tags, v) -> values.computeIfAbsent(tags, t -> new Value()).value = v.doubleValue());
    // without overwrite, a row registered before keeps its meter (and its Value, the same object)
    gauge.register(values.entrySet().stream()
        .<MultiGauge.Row<?>>map(e -> MultiGauge.Row.of(e.getKey(), e.getValue(), v -> v.value))
        .toList(), false);
  }
}
