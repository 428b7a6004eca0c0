package dev.pipemoe.engine.config;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What one validation run has found so far. Rules add to it and never stop the run, so a spec's
 * violations are all reported at once. A field whose value could not be read is marked invalid, and
 * rules that depend on it stay silent rather than report a consequence of the same mistake.
 */
final class Findings {

  private final List<Violation> errors = new ArrayList<>();
  private final List<Violation> warnings = new ArrayList<>();
  private final List<String> defaults = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final Set<SpecField> invalid = EnumSet.noneOf(SpecField.class);

  /** An error on a field that the rule also makes unusable for later rules. */
  void invalid(SpecField field, String rule, String message) {
    invalid.add(field);
    error(field, rule, message);
  }

  void error(SpecField field, String rule, String message) {
    error(field, field.flag, rule, message);
  }

  /** For fields whose flag depends on the value (--bf16, --fp16, --dtype). */
  void error(SpecField field, String flag, String rule, String message) {
    errors.add(new Violation(field.pointer, flag, rule, Severity.ERROR, rule + ": " + message));
  }

  void warning(SpecField field, String rule, String message) {
    warnings.add(new Violation(field.pointer, field.flag, rule, Severity.WARNING, rule + ": " + message));
  }

  /** A field the spec left out took its default. */
  void defaulted(SpecField field, Object value) {
    defaults.add(field.path + " = " + value);
  }

  void note(String note) {
    notes.add(note);
  }

  boolean valid(SpecField... fields) {
    for (SpecField field : fields) {
      if (invalid.contains(field)) {
        return false;
      }
    }
    return true;
  }

  boolean hasErrors() {
    return !errors.isEmpty();
  }

  List<Violation> errors() {
    return errors;
  }

  List<Violation> warnings() {
    return warnings;
  }

  /** One note listing the defaults applied, then the derivations in the order they were made. */
  List<String> notes() {
    List<String> all = new ArrayList<>();
    if (!defaults.isEmpty()) {
      all.add("defaults applied (not given in the spec): " + String.join(", ", defaults));
    }
    all.addAll(notes);
    return all;
  }
}
