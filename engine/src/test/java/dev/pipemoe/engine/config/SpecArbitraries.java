package dev.pipemoe.engine.config;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** Random job specs for property tests: each field absent, plausible, at an edge, or garbage. */
final class SpecArbitraries {

  private SpecArbitraries() {}

  /** Anything a JSON body could hold, strings with whitespace and empty strings included. */
  static Arbitrary<JobSpec> anySpec() {
    return specs(Arbitraries.strings().ofMaxLength(12));
  }

  /** Specs an argument string can carry: every string value is one non-empty-or-empty token. */
  static Arbitrary<JobSpec> tokenSpec() {
    Arbitrary<String> token = Arbitraries.strings().ofMaxLength(12)
        .filter(s -> s.codePoints().noneMatch(Character::isWhitespace));
    return specs(Arbitraries.oneOf(token, Arbitraries.of("--x", "-1", "=", "a=b", "", "\\", "--")));
  }

  private static Arbitrary<JobSpec> specs(Arbitrary<String> garbage) {
    List<Arbitrary<Object>> fields = new ArrayList<>();
    for (SpecField field : SpecField.values()) {
      fields.add(valueOf(field, garbage).injectNull(0.4));
    }
    return Combinators.combine(fields).as(values -> {
      Map<SpecField, Object> map = new EnumMap<>(SpecField.class);
      for (int i = 0; i < values.size(); i++) {
        if (values.get(i) != null) {
          map.put(SpecField.values()[i], values.get(i));
        }
      }
      return SpecValues.build(map);
    });
  }

  @SuppressWarnings("unchecked")
  private static Arbitrary<Object> valueOf(SpecField field, Arbitrary<String> garbage) {
    Arbitrary<?> values;
    if (field.type == Integer.class) {
      values = Arbitraries.frequencyOf(
          Tuple(3, Arbitraries.of(1, 2, 4, 8, 16, 64, 256, 512)),
          Tuple(2, Arbitraries.of(0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 3, 6, 7)),
          Tuple(1, Arbitraries.integers()));
    } else if (field.type == Long.class) {
      values = Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.of(Long.MIN_VALUE, -1L, 0L, Long.MAX_VALUE));
    } else if (field.type == Double.class) {
      values = Arbitraries.frequencyOf(
          Tuple(3, Arbitraries.of(1.0, 1.25, 1e-3, 120e9, 30e-6, 2.0)),
          Tuple(2, Arbitraries.of(0.0, -0.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY,
              Double.NEGATIVE_INFINITY, Double.MAX_VALUE, Double.MIN_VALUE)),
          Tuple(1, Arbitraries.doubles()));
    } else if (field.type == Boolean.class) {
      values = Arbitraries.of(true, false);
    } else {
      values = Arbitraries.frequencyOf(Tuple(3, Arbitraries.of(names(field))), Tuple(1, garbage));
    }
    return (Arbitrary<Object>) values;
  }

  private static net.jqwik.api.Tuple.Tuple2<Integer, Arbitrary<?>> Tuple(int weight, Arbitrary<?> arbitrary) {
    return net.jqwik.api.Tuple.of(weight, arbitrary);
  }

  private static String[] names(SpecField field) {
    return switch (field) {
      case MOE_MODEL_TYPE -> new String[] {"deepspeed_moe", "megatron_moe"};
      case DTYPE -> new String[] {"fp32", "bf16", "fp16"};
      case FAMILY -> new String[] {"mindspeed", "improved"};
      case PROFILE -> new String[] {"ascend-910c", "ascend-910b", "h100", "a100", "unmodelled"};
      case DEVICE_TYPE -> new String[] {"cpu", "ascend-910c", "h100"};
      case RECOMPUTE_GRANULARITY -> new String[] {"full", "selective"};
      default -> throw new IllegalArgumentException("not a string field: " + field);
    };
  }
}
