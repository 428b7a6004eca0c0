package dev.pipemoe.engine.config;

/** Which pipe-experts schedules run when the feature is on (docs/engine.md, "Schedules"). */
public enum ScheduleFamily implements Named {
  /** Faithful to MindSpeed up to 2025-10: prefetch depth 1, n_bwd = N. */
  MINDSPEED("mindspeed"),
  /** Ours: decoupled issue, configurable prefetch depth, n_fwd and n_bwd chosen apart. */
  IMPROVED("improved");

  private final String jsonName;

  ScheduleFamily(String jsonName) {
    this.jsonName = jsonName;
  }

  @Override
  public String jsonName() {
    return jsonName;
  }
}
