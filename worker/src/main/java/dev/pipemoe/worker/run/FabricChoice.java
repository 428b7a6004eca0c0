package dev.pipemoe.worker.run;

import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.sim.HardwareProfile;
import dev.pipemoe.engine.sim.SimFabric;
import dev.pipemoe.nativebridge.NativeFabric;

/**
 * The fabrics this worker can run a job's ranks on, by name (docs/engine.md, "Devices"):
 *
 * <ul>
 *   <li>{@code native} (also {@code local}): the native CPU runtime, ranks as threads of this JVM,
 *       real math and wall-clock time;
 *   <li>{@code sim:PROFILE}: the simulated device of a hardware profile ({@code sim:ascend-910c}),
 *       shapes only, on a virtual clock: its figures are predictions.
 * </ul>
 *
 * @param fabrics opens the fabric a job runs on
 * @param values opens fabrics whose devices compute values (to compare schedules' results)
 * @param profile the simulated device's profile, null for the native runtime
 */
public record FabricChoice(String name, Fabric.Factory fabrics, Fabric.Factory values,
    HardwareProfile profile) {

  public static final String NATIVE = "native";
  private static final String SIM = "sim:";
  private static final String CPU = "cpu";

  public static FabricChoice of(String name) {
    if (NATIVE.equals(name) || "local".equals(name)) {
      return new FabricChoice(NATIVE, NativeFabric::open, NativeFabric::open, null);
    }
    if (name != null && name.startsWith(SIM)) {
      HardwareProfile p = HardwareProfile.load(name.substring(SIM.length()));
      return new FabricChoice(name, SimFabric.factory(p),
          (world, links) -> new SimFabric(world, p, true), p);
    }
    throw new IllegalArgumentException("unknown device '" + name + "': 'native' or 'sim:PROFILE'"
        + " with PROFILE one of " + String.join(", ", HardwareProfile.NAMES));
  }

  /** The same simulated device with another node size (ranks that share a scale-up domain). */
  public FabricChoice withRanksPerNode(int n) {
    if (profile == null) {
      throw new IllegalArgumentException("--ranks-per-node is for a simulated device (sim:PROFILE)");
    }
    return withProfile(profile.withRanksPerNode(n));
  }

  /** The simulated device of another profile (the {@code cpu} profile once measured). */
  public FabricChoice withProfile(HardwareProfile p) {
    return new FabricChoice(name, SimFabric.factory(p),
        (world, links) -> new SimFabric(world, p, true), p);
  }

  /**
   * Whether this is the {@code cpu} profile, whose figures the bench measures on the native
   * runtime before it simulates ({@link CpuProfile}).
   */
  public boolean measuredOnStart() {
    return profile != null && profile.name().equals(CPU);
  }

  public boolean simulated() {
    return profile != null;
  }
}
