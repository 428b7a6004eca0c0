package dev.pipemoe.service.jobs;

import dev.pipemoe.engine.config.JobSpec;
import dev.pipemoe.engine.config.Names;
import dev.pipemoe.service.system.Problems;
import dev.pipemoe.service.system.Problems.FieldError;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Binds a JSON tree onto the engine's {@link JobSpec} records, checking only what JSON can get
 * wrong: unknown field names and JSON types. Values are the engine's business ({@code Validator}),
 * so nothing here knows a range or a rule. The records themselves are the schema (read by
 * reflection), so a field added to the engine is accepted here without a change.
 *
 * <p>Every problem is collected, each with its RFC 6901 pointer: rule {@code BODY-UNKNOWN} for a
 * field the spec does not have (with "did you mean" for near misses), {@code BODY-TYPE} for a
 * value of the wrong JSON type. Null means "not given", as an absent field does. Integers may be
 * written as integral decimals ({@code 8.0}, {@code 1e3}); fractions and out-of-range values are
 * type errors, never silently truncated.
 */
final class SpecBinder {

  static final String UNKNOWN = "BODY-UNKNOWN";
  static final String TYPE = "BODY-TYPE";

  private final List<FieldError> errors = new ArrayList<>();

  /** The spec's sections, bound from the top-level fields {@code sections} names; errors land in {@link #errors}. */
  JobSpec bind(JsonNode root, Set<String> sections) {
    List<Object> values = new ArrayList<>();
    for (RecordComponent component : JobSpec.class.getRecordComponents()) {
      String name = component.getName();
      values.add(sections.contains(name) ? value(component.getType(), root.get(name), "/" + name) : null);
    }
    return errors.isEmpty() ? construct(JobSpec.class, values.toArray()) : null;
  }

  List<FieldError> errors() {
    return List.copyOf(errors);
  }

  /** The top-level names of the spec's sections: model, parallel, pipeExperts, ... */
  static List<String> sectionNames() {
    return Arrays.stream(JobSpec.class.getRecordComponents()).map(RecordComponent::getName).toList();
  }

  /** An unknown name at {@code parentPointer}, with a suggestion when one of {@code known} is close. */
  static FieldError unknown(String parentPointer, String name, List<String> known, String where) {
    String suggestion = suggest(name, known);
    if (suggestion == null && parentPointer.isEmpty()) {
      suggestion = sectionOf(name); // numExperts at the top level: it belongs to /model
    }
    return new FieldError(parentPointer + "/" + Problems.pointerToken(name), UNKNOWN,
        "unknown field '" + name + "' in " + where + (suggestion == null ? "" : "; did you mean " + suggestion + "?")
            + " (known: " + String.join(", ", known) + ")");
  }

  private Object value(Class<?> type, JsonNode node, String pointer) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (type.isRecord()) {
      return record(type, node, pointer);
    }
    if (type == Integer.class) {
      Long v = integral(node, pointer, Integer.MIN_VALUE, Integer.MAX_VALUE, "an integer");
      return v == null ? null : v.intValue();
    }
    if (type == Long.class) {
      return integral(node, pointer, Long.MIN_VALUE, Long.MAX_VALUE, "a 64-bit integer");
    }
    if (type == Double.class) {
      return node.isNumber() ? number(node, pointer) : wrongType(node, pointer, "a number");
    }
    if (type == Boolean.class) {
      return node.isBoolean() ? node.booleanValue() : wrongType(node, pointer, "true or false");
    }
    if (type == String.class) {
      return node.isString() ? node.stringValue() : wrongType(node, pointer, "a string");
    }
    throw new IllegalStateException("JobSpec field " + pointer + " has a type the binder does not know: " + type);
  }

  private Object record(Class<?> type, JsonNode node, String pointer) {
    if (!node.isObject()) {
      return wrongType(node, pointer, "an object");
    }
    RecordComponent[] components = type.getRecordComponents();
    List<String> known = Arrays.stream(components).map(RecordComponent::getName).toList();
    int before = errors.size();
    for (String name : node.propertyNames()) {
      if (!known.contains(name)) {
        errors.add(unknown(pointer, name, known, pointer));
      }
    }
    Object[] values = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      String name = components[i].getName();
      values[i] = value(components[i].getType(), node.get(name), pointer + "/" + name);
    }
    return errors.size() == before ? construct(type, values) : null;
  }

  /** A double; an integer literal beyond double's range reads as infinity, for the engine to refuse. */
  private Double number(JsonNode node, String pointer) {
    try {
      return node.isIntegralNumber() ? node.bigIntegerValue().doubleValue() : node.doubleValue();
    } catch (JacksonException e) {
      wrongType(node, pointer, "a number in double range");
      return null;
    }
  }

  private Long integral(JsonNode node, String pointer, long min, long max, String what) {
    if (!node.isNumber()) {
      wrongType(node, pointer, what);
      return null;
    }
    BigInteger value;
    if (node.isIntegralNumber()) {
      value = node.bigIntegerValue();
    } else {
      double d = node.doubleValue();
      if (!Double.isFinite(d) || d != Math.rint(d)) {
        wrongType(node, pointer, what);
        return null;
      }
      value = node.decimalValue().toBigInteger();
    }
    if (value.compareTo(BigInteger.valueOf(min)) < 0 || value.compareTo(BigInteger.valueOf(max)) > 0) {
      errors.add(new FieldError(pointer, TYPE, pointer + " must be " + what + " from " + min + " to " + max
          + ", was " + node));
      return null;
    }
    return value.longValue();
  }

  private Object wrongType(JsonNode node, String pointer, String expected) {
    errors.add(new FieldError(pointer, TYPE, pointer + " must be " + expected + ", was " + describe(node)));
    return null;
  }

  private static String describe(JsonNode node) {
    String kind = node.getNodeType().name().toLowerCase(Locale.ROOT);
    if (node.isContainer()) {
      return "an " + (node.isArray() ? "array" : kind);
    }
    String text = node.toString();
    return "the " + kind + " " + (text.length() > 40 ? text.substring(0, 40) + "..." : text);
  }

  private static <T> T construct(Class<T> type, Object[] values) {
    try {
      Class<?>[] types = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getType).toArray(Class<?>[]::new);
      Constructor<T> constructor = type.getDeclaredConstructor(types);
      return constructor.newInstance(values);
    } catch (NoSuchMethodException | InstantiationException | IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot construct " + type.getName(), e);
    }
  }

  /** A known name equal ignoring case, or within two edits, quoted; null if none. */
  private static String suggest(String name, List<String> known) {
    String best = Names.closest(name, known, 2);
    return best == null ? null : "'" + best + "'";
  }

  private static String sectionOf(String name) {
    for (RecordComponent section : JobSpec.class.getRecordComponents()) {
      for (RecordComponent field : section.getType().getRecordComponents()) {
        if (field.getName().equalsIgnoreCase(name)) {
          return "/" + section.getName() + "/" + field.getName();
        }
      }
    }
    return null;
  }
}
