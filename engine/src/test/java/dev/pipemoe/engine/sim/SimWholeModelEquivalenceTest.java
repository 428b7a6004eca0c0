package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.contract.WholeModelEquivalenceSuite;
import dev.pipemoe.engine.device.Fabric;

/** The whole-model equivalence suite on the simulated device, computing values, CP included. */
class SimWholeModelEquivalenceTest extends WholeModelEquivalenceSuite {
  @Override
  protected Fabric open(int worldSize) {
    return new SimFabric(worldSize, HardwareProfile.load("ascend-910c"), true);
  }

  @Override
  protected boolean contextParallel() {
    return true;
  }
}
