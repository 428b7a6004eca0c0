package dev.pipemoe.engine.config;

/** ERROR: the job is refused. WARNING: the job runs, as its effective config shows. */
public enum Severity {
  ERROR,
  WARNING
}
