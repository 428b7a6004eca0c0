package dev.pipemoe.engine.device;

/**
 * A set of ranks that can talk to each other, and the devices that are those ranks. Closing the
 * fabric closes its devices.
 */
public interface Fabric extends AutoCloseable {
  int worldSize();

  Device device(int rank);

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

  /**
   * Runs a wait of rank {@code rank}'s host thread for something outside the fabric (the ranks'
   * step barrier): a fabric with a virtual clock must not wait for that thread meanwhile, and moves
   * the rank's host time to the clock's when it returns.
   */
  default void awaitHost(int rank, HostTask<?> wait) throws Exception {
    wait.call();
  }

  @Override
  void close();

  /** Opens fabrics of one kind (the native local fabric, a simulated one). */
  @FunctionalInterface
  interface Factory {
    Fabric open(int worldSize, LinkModel linkModel);
  }
}
