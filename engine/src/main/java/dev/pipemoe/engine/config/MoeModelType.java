package dev.pipemoe.engine.config;

/**
 * MindSpeed's {@code --moe-model-type} (V11). Pipe-experts exists only in the deepspeed_moe layer,
 * and that is the only layer this engine runs; megatron_moe is MindSpeed's default and is kept so
 * that a spec naming it (or omitting the type) gets a precise error instead of an unknown value.
 */
public enum MoeModelType implements Named {
  DEEPSPEED_MOE("deepspeed_moe"),
  MEGATRON_MOE("megatron_moe");

  private final String jsonName;

  MoeModelType(String jsonName) {
    this.jsonName = jsonName;
  }

  @Override
  public String jsonName() {
    return jsonName;
  }
}
