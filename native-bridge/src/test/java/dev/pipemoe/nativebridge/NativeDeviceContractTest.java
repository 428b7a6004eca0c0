package dev.pipemoe.nativebridge;

import dev.pipemoe.engine.contract.DeviceContractSuite;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;

/** The Device contract suite on the native runtime. */
class NativeDeviceContractTest extends DeviceContractSuite {
  @Override
  protected Fabric open(int worldSize) {
    return NativeFabric.open(worldSize, LinkModel.unmodelled());
  }
}
