package dev.pipemoe.worker.engine;

import dev.pipemoe.engine.contract.ScheduleEquivalenceSuite;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.nativebridge.NativeFabric;

/** The schedule-equivalence suite on the native runtime. */
class NativeScheduleEquivalenceTest extends ScheduleEquivalenceSuite {
  @Override
  protected Fabric open(int worldSize) {
    return NativeFabric.open(worldSize, LinkModel.unmodelled());
  }
}
