package dev.pipemoe.engine.device;

import java.util.List;

/**
 * One rank's endpoint of a process group. Collectives on a communicator run on its own FIFO queue
 * ({@link #queue()}), in issue order, and are matched across members by that order: every member
 * must issue the same collectives in the same order, as with NCCL or HCCL.
 */
public interface Communicator extends AutoCloseable {
  /** The group's name, equal on all members ("ep0", "tp1"). */
  String name();

  /** Global ranks of the members, in group order; group index i is {@code ranks().get(i)}. */
  List<Integer> ranks();

  /** This rank's index in {@link #ranks()}. */
  int index();

  default int size() {
    return ranks().size();
  }

  /** The queue its collectives run on, as it appears in timelines. */
  Stream queue();

  /**
   * Destroys this rank's endpoint. Collectives still waiting for this member on other ranks fail
   * with a {@link DeviceException} instead of hanging.
   */
  @Override
  void close();
}
