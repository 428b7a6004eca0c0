package dev.pipemoe.engine.config;

import java.util.Objects;

/**
 * One broken rule.
 *
 * @param pointer JSON pointer into the {@link JobSpec} ({@code /pipeExperts/multiData}), or {@code
 *     /args} for a problem of the argument string itself
 * @param flag the MindSpeed-style flag of that field ({@code --pipe-experts-multi-data}), or null
 *     where the field has none
 * @param rule MindSpeed's rule id ({@code V1}..{@code V11}), ours ({@code P-...}), or {@code ARGS}
 * @param severity ERROR refuses the job; WARNING lets it run as the effective config shows
 * @param message names the field, the rule and the offending values
 */
public record Violation(String pointer, String flag, String rule, Severity severity, String message) {

  public Violation {
    Objects.requireNonNull(pointer, "pointer");
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(message, "message");
  }

  @Override
  public String toString() {
    return severity + " " + rule + " " + pointer + (flag == null ? "" : " (" + flag + ")") + ": " + message;
  }
}
