package dev.pipemoe.nativebridge;

import static dev.pipemoe.nativebridge.PipemoeLib.call;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The native local fabric: ranks are threads of this JVM, each driving its {@link NativeDevice};
 * collectives move data in shared memory and take the time the {@link LinkModel} gives them.
 */
public final class NativeFabric implements Fabric {
  private final long handle;
  private final LinkModel linkModel;
  private final NativeDevice[] devices;
  private boolean closed;

  private NativeFabric(long handle, LinkModel linkModel, int worldSize) {
    this.handle = handle;
    this.linkModel = linkModel;
    this.devices = new NativeDevice[worldSize];
  }

  /** A fabric of worldSize ranks with every rank's device created. */
  public static NativeFabric open(int worldSize, LinkModel linkModel) {
    NativeLibrary.lookup();  // a load failure surfaces here with its reason
    long h;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_LONG);
      call(() -> (int) PipemoeLib.pm_fabric_new.invokeExact(worldSize, linkModel.congestion(), out));
      h = out.get(JAVA_LONG, 0);
    }
    NativeFabric f = new NativeFabric(h, linkModel, worldSize);
    try {
      for (LinkModel.Link l : linkModel.links()) {
        call(() -> (int) PipemoeLib.pm_fabric_set_link.invokeExact(h, l.id(), l.bandwidthBytesPerSecond(),
            l.latencySeconds()));
      }
      for (int r = 0; r < worldSize; r++) {
        f.devices[r] = NativeDevice.create(f, h, r, worldSize);
      }
      return f;
    } catch (RuntimeException | Error e) {
      f.close();  // frees what was created before the failure
      throw e;
    }
  }

  /** How long a collective waits for absent peers before failing (default 120 s). */
  public void setTimeout(double seconds) {
    call(() -> (int) PipemoeLib.pm_fabric_set_timeout.invokeExact(handle, seconds));
  }

  long nowNanos() {
    long[] out = new long[1];
    call(() -> (int) PipemoeLib.pm_fabric_now.invokeExact(handle, MemorySegment.ofArray(out)));
    return out[0];
  }

  @Override
  public int worldSize() {
    return devices.length;
  }

  @Override
  public Device device(int rank) {
    return devices[rank];
  }

  @Override
  public LinkModel linkModel() {
    return linkModel;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (NativeDevice d : devices) {
      if (d != null) {
        d.close();
      }
    }
    call(() -> (int) PipemoeLib.pm_fabric_free.invokeExact(handle));
  }

  /** BLAS threads per GEMM call, process-wide (default 1: rank threads give the parallelism). */
  public static void setBlasThreads(int n) {
    NativeLibrary.lookup();
    call(() -> (int) PipemoeLib.pm_set_blas_threads.invokeExact(n));
  }
}
