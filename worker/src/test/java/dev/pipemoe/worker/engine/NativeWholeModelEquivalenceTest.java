package dev.pipemoe.worker.engine;

import dev.pipemoe.engine.contract.WholeModelEquivalenceSuite;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.nativebridge.NativeFabric;

/** The whole-model equivalence suite on the native runtime (which refuses CP > 1). */
class NativeWholeModelEquivalenceTest extends WholeModelEquivalenceSuite {
  @Override
  protected Fabric open(int worldSize) {
    return NativeFabric.open(worldSize, LinkModel.unmodelled());
  }

  @Override
  protected boolean contextParallel() {
    return false;
  }
}
