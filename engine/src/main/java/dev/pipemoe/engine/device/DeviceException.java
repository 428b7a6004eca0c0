package dev.pipemoe.engine.device;

/** A device refused or failed an op; the message names the op, the operand and the rule. */
public class DeviceException extends RuntimeException {
  private final int code;

  public DeviceException(int code, String message) {
    super(message);
    this.code = code;
  }

  /** The runtime's status code (see the runtime's documentation). */
  public int code() {
    return code;
  }
}
