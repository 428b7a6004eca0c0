package dev.pipemoe.engine.device;

/** Element types a {@link Device} stores. Compute runs in fp32; bf16 is a storage and wire type. */
public enum DType {
  F32(4),
  /** bfloat16: the upper 16 bits of an fp32, rounded to nearest even on conversion. */
  BF16(2),
  /** Indices (routing slots, top-k choices). */
  I32(4);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  public int bytes() {
    return bytes;
  }
}
