package dev.pipemoe.nativebridge;

import static dev.pipemoe.nativebridge.PipemoeLib.call;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.pipemoe.engine.device.LinkModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The native runtime's link model as arithmetic, without a fabric, threads or a clock: for tests
 * that hold another implementation (the collective volume in {@code CommVolume}, a simulated
 * device's fluid model) to the one the native fabric really waits on.
 */
public final class NativeLinkModel {
  private NativeLinkModel() {}

  /**
   * When each of a set of collectives ends under {@code model}, had all members of flow {@code f}
   * arrived at {@code arrive[f]} seconds. Flow f sends {@code bytes[f]} per member (see {@link
   * #collectiveBytes}); its members are ranks {@code ranks[f][j]}, each on link set {@code
   * linkSets[f][j]}. Flows may be given in any order. Returns each flow's end in seconds.
   *
   * @throws IllegalArgumentException when the arrays disagree in length
   * @throws dev.pipemoe.engine.device.DeviceException when the runtime refuses a value (negative
   *     times or bytes, link set outside 0..7), with its message naming the entry
   */
  public static double[] endTimes(LinkModel model, double[] arrive, double[] bytes, int[][] ranks, int[][] linkSets) {
    NativeLibrary.lookup();  // a load failure surfaces here with its reason
    int n = arrive.length;
    if (bytes.length != n || ranks.length != n || linkSets.length != n) {
      throw new IllegalArgumentException("arrive, bytes, ranks and linkSets must have one entry per flow: "
          + n + ", " + bytes.length + ", " + ranks.length + ", " + linkSets.length);
    }
    int[] offsets = new int[n + 1];
    for (int f = 0; f < n; f++) {
      if (ranks[f].length != linkSets[f].length) {
        throw new IllegalArgumentException("flow " + f + " has " + ranks[f].length + " ranks but "
            + linkSets[f].length + " link sets: one per member");
      }
      offsets[f + 1] = offsets[f] + ranks[f].length;
    }
    int[] flatRanks = new int[offsets[n]], flatSets = new int[offsets[n]];
    for (int f = 0; f < n; f++) {
      System.arraycopy(ranks[f], 0, flatRanks, offsets[f], ranks[f].length);
      System.arraycopy(linkSets[f], 0, flatSets, offsets[f], linkSets[f].length);
    }
    int sets = model.links().stream().mapToInt(l -> l.id() + 1).max().orElse(0);
    double[] bandwidth = new double[sets], latency = new double[sets];
    for (LinkModel.Link l : model.links()) {
      bandwidth[l.id()] = l.bandwidthBytesPerSecond();
      latency[l.id()] = l.latencySeconds();
    }
    try (Arena a = Arena.ofConfined()) {
      MemorySegment bw = doubles(a, bandwidth), lat = doubles(a, latency), at = doubles(a, arrive),
          by = doubles(a, bytes), off = a.allocateFrom(JAVA_INT, offsets), rk = ints(a, flatRanks),
          ls = ints(a, flatSets), end = a.allocate(JAVA_DOUBLE, Math.max(n, 1));
      call(() -> (int) PipemoeLib.pm_link_model_eval.invokeExact(model.congestion(), sets, bw, lat, n, at, by, off,
          rk, ls, end));
      return n == 0 ? new double[0] : end.toArray(JAVA_DOUBLE);
    }
  }

  /**
   * Bytes one member sends in collective {@code op} (as timelines name it: "all_to_all",
   * "all_gather", "reduce_scatter", "all_reduce", "shift") over {@code members} ranks with {@code
   * inBytes} of input each.
   */
  public static double collectiveBytes(String op, int members, double inBytes) {
    NativeLibrary.lookup();
    int kind = PipemoeLib.opKind(op);
    if (kind < 0) {
      throw new IllegalArgumentException("op '" + op + "' is not an op kind of the runtime: " + PipemoeLib.OP_KIND_NAMES);
    }
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_DOUBLE);
      call(() -> (int) PipemoeLib.pm_collective_bytes.invokeExact(kind, members, inBytes, out));
      return out.get(JAVA_DOUBLE, 0);
    }
  }

  private static MemorySegment doubles(Arena a, double[] values) {
    return values.length == 0 ? MemorySegment.NULL : a.allocateFrom(JAVA_DOUBLE, values);
  }

  private static MemorySegment ints(Arena a, int[] values) {
    return values.length == 0 ? MemorySegment.NULL : a.allocateFrom(JAVA_INT, values);
  }
}
