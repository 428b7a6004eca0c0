package dev.pipemoe.engine.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Job specs as MindSpeed-style argument strings ({@code --use-pipe-experts
 * --pipe-experts-multi-data 2 --num-experts 8 ...}), both ways. Grammar (docs/config.md): tokens are
 * split at whitespace, no quoting; a value follows its flag as the next token or after {@code =};
 * a switch takes no value, except that the switches of boolean fields accept {@code =true} and
 * {@code =false} (our extension, so that "false" can be written at all). Flags that are pipemoe's
 * own are marked as extensions in {@link SpecField}.
 *
 * <p>{@link #format} writes the canonical form: fields in {@link SpecField} order, {@code --flag
 * value}, {@code --bf16}/{@code --fp16} for those dtypes. {@code parse(format(s))} equals {@link
 * #normalize normalize(s)} for every spec whose strings hold no whitespace, and {@code
 * format(parse(a))} is the canonical form of {@code a}.
 */
public final class MindSpeedArgs {

  /**
   * A read argument string: the spec (null when there are errors), the errors and the warnings,
   * all with pointer {@code /args} and rule {@code ARGS}.
   */
  public record Parsed(JobSpec spec, List<Violation> errors, List<Violation> warnings) {
    public Parsed {
      errors = List.copyOf(errors);
      warnings = List.copyOf(warnings);
    }
  }

  /** How a flag maps onto a field; {@code constant} is the value a value-setting switch sets. */
  record Flag(String name, SpecField field, Object constant) {
    boolean takesValue() {
      return constant == null && field.type != Boolean.class;
    }
  }

  /** Every flag of the spec's own, by name. */
  static final Map<String, Flag> FLAGS = flags();

  private MindSpeedArgs() {}

  /** Reads an argument string; never throws. */
  public static Parsed read(String args) {
    return ArgsReader.read(args == null ? "" : args);
  }

  /** The spec an argument string describes; warnings are dropped. */
  public static JobSpec parse(String args) {
    Parsed parsed = read(args);
    if (!parsed.errors().isEmpty()) {
      throw new Validation.InvalidJobException(parsed.errors());
    }
    return parsed.spec();
  }

  /**
   * The canonical argument string for a spec.
   *
   * @throws IllegalArgumentException for a string value that contains whitespace: it cannot be
   *     written as one token
   */
  public static String format(JobSpec spec) {
    List<String> parts = new ArrayList<>();
    SpecValues.of(spec).forEach((field, value) -> parts.add(format(field, value)));
    return String.join(" ", parts);
  }

  /** The spec as a flat form sees it: a section with no value becomes null. */
  public static JobSpec normalize(JobSpec spec) {
    return SpecValues.build(SpecValues.of(spec));
  }

  private static String format(SpecField field, Object value) {
    return switch (field) {
      case DTYPE -> value.equals("bf16") ? "--bf16" : value.equals("fp16") ? "--fp16" : withValue(field, value);
      case SHARED_LINKS -> (Boolean) value ? "--fabric-shared-links" : "--fabric-separate-links";
      default -> field.type != Boolean.class ? withValue(field, value)
          : (Boolean) value ? field.flag : field.flag + "=false";
    };
  }

  private static String withValue(SpecField field, Object value) {
    String text = value.toString(); // Double.toString reads back exactly, NaN and Infinity included
    if (text.codePoints().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(field.path + " = '" + text + "' contains whitespace and cannot be"
          + " written as one token of an argument string");
    }
    // a value that is empty, looks like a flag or like a line continuation must be glued to its flag
    boolean glue = text.isEmpty() || text.startsWith("--") || text.equals("\\");
    return glue ? field.flag + "=" + text : field.flag + " " + text;
  }

  private static Map<String, Flag> flags() {
    Map<String, Flag> flags = new LinkedHashMap<>();
    for (SpecField field : SpecField.values()) {
      if (field != SpecField.SHARED_LINKS) {
        flags.put(field.flag, new Flag(field.flag, field, null));
      }
    }
    flags.put("--bf16", new Flag("--bf16", SpecField.DTYPE, "bf16"));
    flags.put("--fp16", new Flag("--fp16", SpecField.DTYPE, "fp16"));
    flags.put("--fabric-shared-links", new Flag("--fabric-shared-links", SpecField.SHARED_LINKS, true));
    flags.put("--fabric-separate-links", new Flag("--fabric-separate-links", SpecField.SHARED_LINKS, false));
    return Map.copyOf(flags);
  }
}
