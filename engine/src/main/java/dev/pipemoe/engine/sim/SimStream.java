package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.Stream;

/** A stream or communicator queue of a simulated device: its name and its last op. */
final class SimStream implements Stream {
  final int device;
  final String name;
  Op last;

  SimStream(int device, String name) {
    this.device = device;
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  boolean idle() {
    return last == null || last.done;
  }

  /** A recorded event: the last op of its stream at record time (null: nothing to wait for). */
  static final class SimEvent implements Event {
    final int device;
    Op captured;

    SimEvent(int device) {
      this.device = device;
    }

    boolean done() {
      return captured == null || captured.done;
    }

    @Override
    public void close() {}
  }
}
