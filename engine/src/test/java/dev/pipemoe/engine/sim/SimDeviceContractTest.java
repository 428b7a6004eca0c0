package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.contract.DeviceContractSuite;
import dev.pipemoe.engine.device.Fabric;

/** The Device contract suite on the simulated device, computing values. */
class SimDeviceContractTest extends DeviceContractSuite {
  @Override
  protected Fabric open(int worldSize) {
    return new SimFabric(worldSize, HardwareProfile.load("cpu"), true);
  }
}
