package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.contract.TimelineSemanticsSuite;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;

/**
 * The timeline-semantics suite on the simulated device: the {@code cpu} profile's compute, and
 * the suite's slow links, TP inside a node of two ranks and EP across nodes.
 */
class SimTimelineSemanticsTest extends TimelineSemanticsSuite {
  @Override
  protected Fabric open(int worldSize, LinkModel slowLinks) {
    LinkModel.Link ep = slowLinks.links().get(0);
    LinkModel.Link tp = slowLinks.links().get(1);
    HardwareProfile profile = HardwareProfile.load("cpu").withRanksPerNode(2).withLinks(
        new HardwareProfile.Link(tp.bandwidthBytesPerSecond(), tp.latencySeconds()),
        new HardwareProfile.Link(ep.bandwidthBytesPerSecond(), ep.latencySeconds()), false,
        slowLinks.congestion());
    return new SimFabric(worldSize, profile, false);
  }
}
