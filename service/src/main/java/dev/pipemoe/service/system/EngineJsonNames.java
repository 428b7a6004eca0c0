package dev.pipemoe.service.system;

import dev.pipemoe.engine.config.Named;
import dev.pipemoe.engine.device.DType;
import java.util.Locale;

/**
 * The JSON name of an engine enum constant, as the API writes it (the effective config) and as
 * /v3/api-docs lists it: the spec's own names ({@code deepspeed_moe}, {@code ascend-910c}, {@code
 * fp32}), else the constant in lowercase.
 */
public final class EngineJsonNames {

  private EngineJsonNames() {}

  public static String of(Enum<?> value) {
    return switch (value) {
      case Named n -> n.jsonName();
      case DType d -> switch (d) {
        case F32 -> "fp32"; // the spec's names for the dtypes it accepts
        case BF16 -> "bf16";
        case I32 -> "i32";
      };
      default -> value.name().toLowerCase(Locale.ROOT);
    };
  }
}
