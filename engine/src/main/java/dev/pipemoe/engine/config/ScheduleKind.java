package dev.pipemoe.engine.config;

/**
 * The schedule the engine runs, as one value to switch on: {@link #SERIAL} whenever pipe-experts is
 * effectively off (not asked for, or switched off by V3, V6 or V11), else the chosen family.
 */
public enum ScheduleKind implements Named {
  SERIAL("serial"),
  MINDSPEED("mindspeed"),
  IMPROVED("improved");

  private final String jsonName;

  ScheduleKind(String jsonName) {
    this.jsonName = jsonName;
  }

  @Override
  public String jsonName() {
    return jsonName;
  }
}
