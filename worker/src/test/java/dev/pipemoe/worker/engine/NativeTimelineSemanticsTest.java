package dev.pipemoe.worker.engine;

import dev.pipemoe.engine.contract.TimelineSemanticsSuite;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.nativebridge.NativeFabric;

/** The timeline-semantics suite on the native runtime, in real time. */
class NativeTimelineSemanticsTest extends TimelineSemanticsSuite {
  @Override
  protected Fabric open(int worldSize, LinkModel slowLinks) {
    return NativeFabric.open(worldSize, slowLinks);
  }
}
