package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;

import java.util.EnumMap;
import java.util.Map;

/**
 * Specs for tests: a clean base (deepspeed_moe, E 8, tp 2 with SP, ep 4, pipe-experts on: data 4,
 * world 8, nle 2, S 256, C 64; no violation, no warning) changed field by field.
 */
final class TestSpecs {

  private TestSpecs() {}

  static final Map<SpecField, Object> BASE = Map.of(
      MOE_MODEL_TYPE, "deepspeed_moe",
      NUM_EXPERTS, 8,
      TENSOR, 2,
      EXPERT, 4,
      SEQUENCE_PARALLEL, true,
      ENABLED, true);

  /** The base with {@code field, value} pairs applied; a null value removes the field. */
  static JobSpec spec(Object... changes) {
    Map<SpecField, Object> values = new EnumMap<>(BASE);
    for (int i = 0; i < changes.length; i += 2) {
      SpecField field = (SpecField) changes[i];
      if (changes[i + 1] == null) {
        values.remove(field);
      } else {
        values.put(field, changes[i + 1]);
      }
    }
    return SpecValues.build(values);
  }
}
