package dev.pipemoe.engine.device;

/** Distributions of {@link Device#random}: its parameters {@code a, b} mean (low, high) or (mean, std). */
public enum Distribution {
  UNIFORM,
  NORMAL
}
