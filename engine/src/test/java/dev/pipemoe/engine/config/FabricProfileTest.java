package dev.pipemoe.engine.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.config.EngineConfig.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import org.junit.jupiter.api.Test;

class FabricProfileTest {

  @Test
  void namesAreLowercaseWithDashes() {
    assertThat(Named.choices(FabricProfile.class)).isEqualTo("ascend-910c, ascend-910b, h100, a100, unmodelled");
    assertThat(Named.byName(FabricProfile.class, "ascend-910c")).contains(FabricProfile.ASCEND_910C);
    assertThat(Named.byName(FabricProfile.class, "ASCEND-910C")).isEmpty();
  }

  @Test
  void ascend910cIsTheSharedLinkDefault() {
    FabricProfile p = Defaults.FABRIC;
    assertThat(p).isEqualTo(FabricProfile.ASCEND_910C);
    assertThat(p.peakTflops()).isEqualTo(376.0);
    assertThat(p.collectiveGBps()).isEqualTo(120.0);
    assertThat(p.latencyMicros()).isEqualTo(30.0);
    assertThat(p.sharedLinks()).isTrue();
    assertThat(p.congestion()).isEqualTo(1.25);
    assertThat(p.source()).contains("[est]");
  }

  @Test
  void otherProfilesHoldTheirLinksApart() {
    for (FabricProfile p : new FabricProfile[] {FabricProfile.ASCEND_910B, FabricProfile.H100, FabricProfile.A100}) {
      assertThat(p.sharedLinks()).as(p.jsonName()).isFalse();
      assertThat(p.congestion()).as(p.jsonName()).isEqualTo(1.0);
      assertThat(p.peakTflops()).as(p.jsonName()).isPositive();
    }
    assertThat(FabricProfile.H100.peakTflops()).isEqualTo(989.4);
  }

  @Test
  void separateLinksGiveTpItsOwnLinkSet() {
    assertThat(Fabric.of(FabricProfile.ASCEND_910B).tpLinkSet()).isNotEqualTo(Fabric.EP_LINK_SET);
    assertThat(Fabric.of(FabricProfile.ASCEND_910C).tpLinkSet()).isEqualTo(Fabric.EP_LINK_SET);
  }
}
