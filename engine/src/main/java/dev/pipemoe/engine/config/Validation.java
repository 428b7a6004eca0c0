package dev.pipemoe.engine.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * What {@link Validator} found: every error and warning at once, the notes on defaults and
 * derivations, and the effective config when there is no error.
 *
 * @param effective what the engine will run; null exactly when {@code errors} is not empty
 * @param notes the defaults and derivations applied, in words; present with errors too, since they
 *     explain the values the rules saw
 */
public record Validation(
    List<Violation> errors, List<Violation> warnings, EngineConfig effective, List<String> notes) {

  public Validation {
    errors = List.copyOf(errors);
    warnings = List.copyOf(warnings);
    notes = List.copyOf(notes);
    if (errors.isEmpty() == (effective == null)) {
      throw new IllegalArgumentException(
          "effective must be null exactly when there are errors: " + errors.size() + " errors, effective " + effective);
    }
  }

  public boolean ok() {
    return errors.isEmpty();
  }

  /** The effective config, or an exception listing every error. */
  public EngineConfig orThrow() {
    if (!ok()) {
      throw new InvalidJobException(errors);
    }
    return effective;
  }

  /** A job spec with errors, as an exception; the message lists them all. */
  public static final class InvalidJobException extends IllegalArgumentException {
    private final transient List<Violation> errors;

    public InvalidJobException(List<Violation> errors) {
      super(errors.stream().map(Violation::toString).collect(Collectors.joining("\n", "invalid job spec:\n", "")));
      this.errors = List.copyOf(errors);
    }

    public List<Violation> errors() {
      return errors;
    }
  }
}
