package dev.pipemoe.engine.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.config.EngineConfig.Fabric;
import dev.pipemoe.engine.config.EngineConfig.Model;
import dev.pipemoe.engine.config.EngineConfig.Parallel;
import dev.pipemoe.engine.config.EngineConfig.PipeExperts;
import dev.pipemoe.engine.config.EngineConfig.Resources;
import dev.pipemoe.engine.config.EngineConfig.Training;
import dev.pipemoe.engine.device.DType;
import org.junit.jupiter.api.Test;

class EngineConfigTest {

  /** tp 2 with SP, data 4, ep 4, E 8: nle 2, S = 512/2 = 256, C = 256/8 · 2 = 64. */
  static EngineConfig config(PipeExperts pipeExperts) {
    Model model = new Model(MoeModelType.DEEPSPEED_MOE, 1, 256, 512, 8, 2, 1.0, 4, false, 512, 1, DType.BF16, 0.0);
    return new EngineConfig(model, new Parallel(2, 4, 4, true), pipeExperts, new Training(20, 3, 1234, 1e-3),
        Fabric.of(FabricProfile.ASCEND_910C), new Resources(DeviceType.CPU, 8));
  }

  @Test
  void derivedShape() {
    EngineConfig c = config(PipeExperts.off(ScheduleFamily.MINDSPEED));
    assertThat(c.worldSize()).isEqualTo(8);
    assertThat(c.localExperts()).isEqualTo(2);
    assertThat(c.tokensPerRank()).isEqualTo(256);
    assertThat(c.capacity()).isEqualTo(64);
    assertThat(c.training().measuredSteps()).isEqualTo(17);
  }

  @Test
  void scheduleIsSerialWhenPipeExpertsIsOff() {
    assertThat(config(PipeExperts.off(ScheduleFamily.IMPROVED)).schedule()).isEqualTo(ScheduleKind.SERIAL);
    EngineConfig c = config(new PipeExperts(true, true, 2, ScheduleFamily.MINDSPEED, 1, 2));
    assertThat(c.schedule()).isEqualTo(ScheduleKind.MINDSPEED);
    assertThat(c.chunksForward()).isEqualTo(4);
    EngineConfig improved = config(new PipeExperts(true, false, 2, ScheduleFamily.IMPROVED, 3, 4));
    assertThat(improved.schedule()).isEqualTo(ScheduleKind.IMPROVED);
    assertThat(improved.chunksBackward()).isEqualTo(8);
  }

  @Test
  void offHasOneRepresentation() {
    assertThatThrownBy(() -> new PipeExperts(false, true, 1, ScheduleFamily.MINDSPEED, 1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was true/1/1/1");
  }

  @Test
  void mindspeedFamilyHasNoImprovedOptions() {
    assertThatThrownBy(() -> new PipeExperts(true, false, 2, ScheduleFamily.MINDSPEED, 2, 2))
        .hasMessageContaining("prefetch 1");
  }

  @Test
  void invariantsPrintTheValues() {
    assertThatThrownBy(() -> config(new PipeExperts(true, false, 65, ScheduleFamily.MINDSPEED, 1, 65)))
        .hasMessageContaining("multiData 65").hasMessageContaining("capacity 64");
    assertThatThrownBy(() -> new Parallel(1, 4, 4, true)).hasMessageContaining("tensor >= 2, was 1");
    assertThatThrownBy(() -> new Parallel(2, 6, 4, false)).hasMessageContaining("expert 4 must divide context 1 x data 6");
    assertThatThrownBy(() -> new Model(MoeModelType.MEGATRON_MOE, 1, 1, 1, 1, 1, 1, 1, false, 1, 1, DType.F32, 0))
        .hasMessageContaining("deepspeed_moe");
    assertThatThrownBy(() -> new Model(MoeModelType.DEEPSPEED_MOE, 1, 1, 1, 1, 1, 1, 1, false, 1, 1, DType.I32, 0))
        .hasMessageContaining("I32");
    assertThatThrownBy(() -> new Training(3, 3, 1, 1e-3)).hasMessageContaining("[0, steps 3), was 3");
  }
}
