package dev.pipemoe.nativebridge;

import dev.pipemoe.engine.device.Event;

final class NativeEvent implements Event {
  final long handle;
  private boolean closed;

  NativeEvent(long handle) {
    this.handle = handle;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    PipemoeLib.release(() -> (int) PipemoeLib.pm_event_free.invokeExact(handle));  // gone already if the device closed
  }
}
