package dev.pipemoe.worker.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.nativebridge.NativeFabric;
import org.junit.jupiter.api.Test;

class NativeRuntimeTest {

  @Test
  void theNativeRuntimeOfThisBuildRunsHere() {
    assertThat(new NativeRuntime(NativeFabric::open).problem()).isEmpty();
  }

  @Test
  void aRuntimeThatCannotOpenAFabricIsReportedWithItsReasonOnce() {
    int[] tries = {0};
    NativeRuntime broken = new NativeRuntime((n, links) -> {
      tries[0]++;
      throw new IllegalStateException("pipemoe: cannot load the native runtime: no libpipemoe.so");
    });
    assertThat(broken.problem()).contains("pipemoe: cannot load the native runtime: no libpipemoe.so");
    assertThat(broken.problem()).isPresent();
    assertThat(tries[0]).isEqualTo(1);
  }
}
