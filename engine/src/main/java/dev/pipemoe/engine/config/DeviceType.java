package dev.pipemoe.engine.config;

/** What a job's ranks run on; workers advertise the types they have. */
public enum DeviceType implements Named {
  /** The native CPU runtime (native-bridge): ranks are threads, the fabric is emulated. */
  CPU("cpu"),
  ASCEND_910C("ascend-910c"),
  ASCEND_910B("ascend-910b"),
  H100("h100"),
  A100("a100");

  private final String jsonName;

  DeviceType(String jsonName) {
    this.jsonName = jsonName;
  }

  @Override
  public String jsonName() {
    return jsonName;
  }
}
