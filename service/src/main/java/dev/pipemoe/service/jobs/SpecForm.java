package dev.pipemoe.service.jobs;

import com.fasterxml.jackson.annotation.JsonValue;

/** How a job's spec was given: JSON or YAML fields, or a MindSpeed-style argument string. */
public enum SpecForm {
  JSON,
  YAML,
  ARGS;

  @JsonValue
  public String jsonName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
