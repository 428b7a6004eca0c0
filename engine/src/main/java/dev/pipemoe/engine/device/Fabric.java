package dev.pipemoe.engine.device;

import java.util.List;

/**
 * A set of ranks that can talk to each other, and the devices that are those ranks. Closing the
 * fabric closes its devices.
 */
public interface Fabric extends AutoCloseable {
  int worldSize();

  /** The device of {@code rank}; only ranks of {@link #localRanks()} have one here. */
  Device device(int rank);

  /**
   * The ranks whose devices this process drives, in order. A fabric whose ranks all live in this
   * process (the native local fabric, the simulated one) owns all of them; one spanning processes
   * owns its share, and the trainer runs only those.
   */
  default List<Integer> localRanks() {
    return java.util.stream.IntStream.range(0, worldSize()).boxed().toList();
  }

  LinkModel linkModel();

  /** Work a rank's host thread does; may throw. */
  @FunctionalInterface
  interface HostTask<T> {
    T call() throws Exception;
  }

  /**
   * Runs {@code body} on the calling thread as the host program of {@code rank}. A fabric with a
   * virtual clock needs to know which threads drive its devices, so that it advances only when all
   * of them wait; others just run it.
   */
  default <T> T runRank(int rank, HostTask<T> body) throws Exception {
    return body.call();
  }

  /** A barrier of the host threads of this process's ranks. */
  interface HostBarrier {
    /** Waits until every party arrived; throws when the barrier was broken. */
    void await(int rank) throws Exception;

    /** Releases the waiting parties with an exception (a rank failed). */
    void breakBarrier();
  }

  /**
   * A barrier of {@code parties} rank threads whose {@code action} runs once all arrived, before
   * any leaves (the trainer's step barrier). A fabric with a virtual clock must not wait for a
   * thread while it waits there, and lets all of them leave at one simulated time.
   */
  default HostBarrier newHostBarrier(int parties, Runnable action) {
    java.util.concurrent.CyclicBarrier barrier =
        new java.util.concurrent.CyclicBarrier(parties, action);
    return new HostBarrier() {
      @Override
      public void await(int rank) throws Exception {
        barrier.await();
      }

      @Override
      public void breakBarrier() {
        barrier.reset();
      }
    };
  }

  @Override
  void close();

  /** Opens fabrics of one kind (the native local fabric, a simulated one). */
  @FunctionalInterface
  interface Factory {
    Fabric open(int worldSize, LinkModel linkModel);
  }
}
