package dev.pipemoe.engine.config;

/**
 * What the engine trains: {@code moe-stack}, a stack of MoE layers with residuals on a teacher's
 * synthetic targets (the default, what the engine always ran), or {@code gpt}, a whole pre-norm GPT
 * whose every layer is attention followed by the MoE block, trained on tokens with cross-entropy
 * (docs/config.md, "The whole model").
 */
public enum Architecture implements Named {
  MOE_STACK("moe-stack"),
  GPT("gpt");

  private final String jsonName;

  Architecture(String jsonName) {
    this.jsonName = jsonName;
  }

  @Override
  public String jsonName() {
    return jsonName;
  }
}
