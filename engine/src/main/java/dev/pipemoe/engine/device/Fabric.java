package dev.pipemoe.engine.device;

/**
 * A set of ranks that can talk to each other, and the devices that are those ranks. Closing the
 * fabric closes its devices.
 */
public interface Fabric extends AutoCloseable {
  int worldSize();

  Device device(int rank);

  LinkModel linkModel();

  @Override
  void close();

  /** Opens fabrics of one kind (the native local fabric, a simulated one). */
  @FunctionalInterface
  interface Factory {
    Fabric open(int worldSize, LinkModel linkModel);
  }
}
