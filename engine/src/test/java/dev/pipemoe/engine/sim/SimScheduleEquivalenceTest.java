package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.contract.ScheduleEquivalenceSuite;
import dev.pipemoe.engine.device.Fabric;

/** The schedule-equivalence suite on the simulated device, computing values in Java. */
class SimScheduleEquivalenceTest extends ScheduleEquivalenceSuite {
  @Override
  protected Fabric open(int worldSize) {
    return new SimFabric(worldSize, HardwareProfile.load("ascend-910c"), true);
  }
}
