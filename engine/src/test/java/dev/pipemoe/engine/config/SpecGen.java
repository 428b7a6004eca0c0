package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.testing.Gen.anyDouble;
import static dev.pipemoe.engine.testing.Gen.anyInt;
import static dev.pipemoe.engine.testing.Gen.anyLong;
import static dev.pipemoe.engine.testing.Gen.chance;
import static dev.pipemoe.engine.testing.Gen.oneOf;

import dev.pipemoe.engine.testing.Gen;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Random job specs for property tests ({@link dev.pipemoe.engine.testing.Property}): each field
 * absent, plausible, at an edge, or garbage.
 */
final class SpecGen {

  private SpecGen() {}

  /** Anything a JSON body could hold, strings with whitespace and empty strings included. */
  static JobSpec anySpec(SplittableRandom r) {
    return spec(r, g -> Gen.string(g, 12));
  }

  /** Specs an argument string can carry: every string value is one non-empty-or-empty token. */
  static JobSpec tokenSpec(SplittableRandom r) {
    return spec(r, g -> g.nextBoolean() ? token(g) : oneOf(g, "--x", "-1", "=", "a=b", "", "\\", "--"));
  }

  /** A string of up to 12 characters with no whitespace in it. */
  private static String token(SplittableRandom r) {
    while (true) {
      String s = Gen.string(r, 12);
      if (s.codePoints().noneMatch(Character::isWhitespace)) {
        return s;
      }
    }
  }

  /**
   * Each field is absent with probability 0.4; one spec in 20 has every field absent and one in 20
   * every field present, so those two edge cases come up in every run.
   */
  private static JobSpec spec(SplittableRandom r, Function<SplittableRandom, String> garbage) {
    int shape = r.nextInt(20);
    double pAbsent = shape == 0 ? 1.0 : shape == 1 ? 0.0 : 0.4;
    Map<SpecField, Object> map = new EnumMap<>(SpecField.class);
    for (SpecField field : SpecField.values()) {
      if (!chance(r, pAbsent)) {
        map.put(field, valueOf(field, r, garbage));
      }
    }
    return SpecValues.build(map);
  }

  private static Object valueOf(SpecField field, SplittableRandom r,
      Function<SplittableRandom, String> garbage) {
    if (field.type == Integer.class) {
      int weight = r.nextInt(6); // plausible : edge : any = 3 : 2 : 1
      return weight < 3 ? oneOf(r, 1, 2, 4, 8, 16, 64, 256, 512)
          : weight < 5 ? oneOf(r, 0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 3, 6, 7)
          : anyInt(r);
    } else if (field.type == Long.class) {
      return r.nextBoolean() ? anyLong(r) : oneOf(r, Long.MIN_VALUE, -1L, 0L, Long.MAX_VALUE);
    } else if (field.type == Double.class) {
      int weight = r.nextInt(6); // plausible : edge : any = 3 : 2 : 1
      return weight < 3 ? oneOf(r, 1.0, 1.25, 1e-3, 120e9, 30e-6, 2.0)
          : weight < 5 ? oneOf(r, 0.0, -0.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY,
              Double.NEGATIVE_INFINITY, Double.MAX_VALUE, Double.MIN_VALUE)
          : anyDouble(r);
    } else if (field.type == Boolean.class) {
      return r.nextBoolean();
    } else {
      return r.nextInt(4) < 3 ? oneOf(r, names(field)) : garbage.apply(r); // names : garbage = 3 : 1
    }
  }

  private static String[] names(SpecField field) {
    return switch (field) {
      case MOE_MODEL_TYPE -> new String[] {"deepspeed_moe", "megatron_moe"};
      case DTYPE -> new String[] {"fp32", "bf16", "fp16"};
      case FAMILY -> new String[] {"mindspeed", "improved"};
      case PROFILE -> new String[] {"ascend-910c", "ascend-910b", "h100", "a100", "unmodelled"};
      case DEVICE_TYPE -> new String[] {"cpu", "ascend-910c", "h100"};
      case RECOMPUTE_GRANULARITY -> new String[] {"full", "selective"};
      case RECOMPUTE_METHOD -> new String[] {"uniform", "block"};
      case ARCHITECTURE -> new String[] {"moe-stack", "gpt"};
      case TOKENIZER -> new String[] {"byte"};
      case DATA_PATH -> new String[] {"/data/corpus.txt", "docs/engine.md"};
      default -> throw new IllegalArgumentException("not a string field: " + field);
    };
  }
}
