package dev.pipemoe.engine.config;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * An enum constant with the name it has in JSON job specs and argument strings: lowercase, words
 * joined by dashes ({@code ascend-910c}), or MindSpeed's own spelling where MindSpeed has one
 * ({@code deepspeed_moe}).
 */
public interface Named {

  String jsonName();

  /** The constant whose JSON name is exactly {@code name} (case-sensitive, like MindSpeed's choices). */
  static <E extends Enum<E> & Named> Optional<E> byName(Class<E> type, String name) {
    return Arrays.stream(type.getEnumConstants()).filter(e -> e.jsonName().equals(name)).findFirst();
  }

  /** The JSON names of all constants, for messages: {@code "cpu, ascend-910c, h100"}. */
  static <E extends Enum<E> & Named> String choices(Class<E> type) {
    return Arrays.stream(type.getEnumConstants())
        .map(Named::jsonName)
        .collect(Collectors.joining(", "));
  }
}
