package dev.pipemoe.nativebridge;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.Stream;
import java.util.List;

final class NativeCommunicator implements Communicator {
  final long handle;
  private final String name;
  private final List<Integer> ranks;
  private final int index;
  private final NativeStream queue;
  private boolean closed;

  NativeCommunicator(long handle, String name, List<Integer> ranks, int index, NativeStream queue) {
    this.handle = handle;
    this.name = name;
    this.ranks = List.copyOf(ranks);
    this.index = index;
    this.queue = queue;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public List<Integer> ranks() {
    return ranks;
  }

  @Override
  public int index() {
    return index;
  }

  @Override
  public Stream queue() {
    return queue;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    PipemoeLib.release(() -> (int) PipemoeLib.pm_comm_free.invokeExact(handle));  // gone already if the device closed
  }
}
