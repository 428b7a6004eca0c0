package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.Stream;
import java.util.Arrays;
import java.util.List;

/** One rank's endpoint of a {@link SimGroup}: its index, its queue, its next collective's number. */
final class SimCommunicator implements Communicator {
  final SimDevice device;
  final SimGroup group;
  final int index;
  final SimStream queue;
  long next;
  boolean closed;

  SimCommunicator(SimDevice device, SimGroup group, int index) {
    this.device = device;
    this.group = group;
    this.index = index;
    this.queue = new SimStream(device.rank(), "comm:" + group.name);
  }

  @Override
  public String name() {
    return group.name;
  }

  @Override
  public List<Integer> ranks() {
    return Arrays.stream(group.ranks).boxed().toList();
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
    device.closeCommunicator(this);
  }
}
