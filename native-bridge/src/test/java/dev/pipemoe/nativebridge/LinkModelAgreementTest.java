package dev.pipemoe.nativebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.metrics.CommVolume;
import dev.pipemoe.engine.metrics.CommVolume.Collective;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The link model's arithmetic has one definition per language; these tests hold the Java side to
 * the native one the fabric really waits on.
 */
class LinkModelAgreementTest {
  /** Random inputs are seeded from the clock unless -Dpipemoe.test.seed=N; every failure names the seed. */
  static final long SEED = Long.getLong("pipemoe.test.seed", System.nanoTime());

  @Test
  void commVolumeCountsCollectiveBytesLikeTheRuntime() {
    Random rnd = new Random(SEED);
    for (int i = 0; i < 2000; i++) {
      Collective kind = Collective.values()[rnd.nextInt(Collective.values().length)];
      int members = 1 + rnd.nextInt(i % 10 == 0 ? 4096 : 16);
      double inBytes = rnd.nextInt(4) == 0 ? rnd.nextInt(1 << 20) : rnd.nextDouble() * 1e12;
      assertThat(CommVolume.collectiveBytes(kind, members, inBytes))
          .as("seed %d: %s over %d members of %s bytes", SEED, kind, members, inBytes)
          .isEqualTo(NativeLinkModel.collectiveBytes(kind.opName(), members, inBytes));
    }
  }

  /** CommVolume prices the MoE layer's four collectives; shift (CP's K/V ring) is one step of its input. */
  @Test
  void shiftSendsItsInputOnce() {
    assertThat(NativeLinkModel.collectiveBytes("shift", 4, 1000)).isEqualTo(1000);
    assertThat(NativeLinkModel.collectiveBytes("shift", 1, 1000)).isZero();
  }

  @Test
  void collectiveBytesRefusesWhatIsNotACollective() {
    assertThatThrownBy(() -> NativeLinkModel.collectiveBytes("gemm", 2, 1)).isInstanceOf(DeviceException.class)
        .hasMessageContaining("must be a collective");
    assertThatThrownBy(() -> NativeLinkModel.collectiveBytes("no_such_op", 2, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no_such_op");
  }

  /** B = 1e6 bytes/s, alpha = 0.01 s on link set 0; congestion 1.5. */
  static final LinkModel MODEL = new LinkModel(1.5, List.of(new LinkModel.Link(0, 1e6, 0.01)));

  @Test
  void twoFlowsSharingALinkBothRunAtBandwidthOverTwiceTheCongestion() {
    double[] end = NativeLinkModel.endTimes(MODEL, new double[] {0, 0}, new double[] {1e6, 1e6},
        new int[][] {{0, 1}, {0, 1}}, new int[][] {{0, 0}, {0, 0}});
    // each moves 1e6 bytes at 1e6 / (2 * 1.5) bytes/s after the latency: 0.01 + 3 s
    assertThat(end).containsExactly(new double[] {3.01, 3.01}, within(1e-9));
  }

  @Test
  void aLaterFlowSlowsTheFirstOnlyWhileBothAreActive() {
    double[] end = NativeLinkModel.endTimes(MODEL, new double[] {0.5, 0, 0.2}, new double[] {2e5, 1e6, 1e5},
        new int[][] {{0, 1}, {0, 1}, {2, 3}}, new int[][] {{0, 0}, {0, 0}, {0, 1}});
    // flow 1 alone from 0.01 to 0.51 (5e5 bytes); both at 1e6/3 until flow 0's 2e5 are done at
    // 1.11; flow 1's last 3e5 bytes alone: 1.41. Flow 2 is on other ranks (and set 1 of rank 3 is
    // unmodelled): 0.2 + 0.01 + 0.1
    assertThat(end).containsExactly(new double[] {1.11, 1.41, 0.31}, within(1e-9));
  }

  @Test
  void badFlowsAreRefusedNamingTheEntry() {
    assertThatThrownBy(() -> NativeLinkModel.endTimes(MODEL, new double[] {0}, new double[] {-1},
        new int[][] {{0}}, new int[][] {{0}})).isInstanceOf(DeviceException.class)
        .hasMessageContaining("bytes[0] is -1");
    assertThatThrownBy(() -> NativeLinkModel.endTimes(MODEL, new double[] {0}, new double[] {1},
        new int[][] {{0, 1}}, new int[][] {{0}})).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("flow 0 has 2 ranks but 1 link sets");
    assertThat(NativeLinkModel.endTimes(MODEL, new double[0], new double[0], new int[0][], new int[0][])).isEmpty();
  }
}
