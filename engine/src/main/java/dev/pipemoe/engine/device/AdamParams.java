package dev.pipemoe.engine.device;

/** Hyper-parameters of {@link Device#adam}; weight decay is decoupled (AdamW) when non-zero. */
public record AdamParams(float lr, float beta1, float beta2, float eps, float weightDecay) {
  public static AdamParams of(float lr) {
    return new AdamParams(lr, 0.9f, 0.999f, 1e-8f, 0f);
  }
}
