package dev.pipemoe.engine.sim;

/**
 * How long an op takes on a {@link HardwareProfile} (docs/engine.md, "Simulated device: the cost
 * model"). Every formula is here:
 *
 * <pre>
 *   GEMM           launch + max(2 m n k b / (peak x eta(m,n,k)),  bytes / (HBM x eta_hbm))
 *                  eta(m,n,k) = eta_max x m/(m+h) x n/(n+h) x k/(k+h)     (h: gemmHalfDim)
 *   memory-bound   launch + max(bytes / (HBM x eta_hbm), elements x t_op)
 *                  bytes: every operand read or written; t_op: the profile's measured arithmetic
 *                  time per element of that op (only a CPU has any: erf, exp, sqrt)
 *   collective     launch + alpha x steps(kind, p), then bytes(kind, p) at the link's bandwidth,
 *                  shared with concurrent transfers by the link model ({@link FluidModel})
 *                  steps: all-to-all 1 (direct exchange), shift 1 (each member sends its input
 *                  to one peer), all-gather and reduce-scatter p-1 (ring), all-reduce 2(p-1)
 *                  (ring); bytes as {@link #collectiveBytes}
 * </pre>
 */
final class CostModel {
  private final HardwareProfile profile;

  CostModel(HardwareProfile profile) {
    this.profile = profile;
  }

  double gemm(long m, long n, long k, long batch, double bytes) {
    double h = profile.gemmHalfDim();
    double eta = profile.gemmEfficiency() * m / (m + h) * n / (n + h) * k / (k + h);
    double flops = 2.0 * m * n * k * batch;
    double compute = flops == 0 ? 0 : flops / (profile.peakFlops() * eta);
    return profile.launchSeconds() + Math.max(compute, memoryTime(bytes));
  }

  /** A memory-bound op {@code op} over {@code elements} elements moving {@code bytes}. */
  double memory(String op, double bytes, double elements) {
    double arithmetic = elements * profile.elementSeconds().getOrDefault(op, 0.0);
    return profile.launchSeconds() + Math.max(memoryTime(bytes), arithmetic);
  }

  private double memoryTime(double bytes) {
    return bytes / (profile.hbmBandwidth() * profile.hbmEfficiency());
  }

  /** The start-up part of a collective: its launch and its algorithm's latency steps. */
  double collectiveStartup(String kind, int members, boolean interNode) {
    HardwareProfile.Link link = interNode ? profile.inter() : profile.intra();
    if (members <= 1) {
      return profile.launchSeconds();
    }
    int steps = switch (kind) {
      case "all_to_all", "shift" -> 1;
      case "all_gather", "reduce_scatter" -> members - 1;
      case "all_reduce" -> 2 * (members - 1);
      default -> throw new IllegalArgumentException("not a collective: " + kind);
    };
    return profile.launchSeconds() + link.latency() * steps;
  }

  /**
   * Bytes each member sends in a collective of {@code members} whose input is {@code inBytes} per
   * member: all-to-all and reduce-scatter (p-1)/p of it, all-gather p-1 times it, all-reduce
   * 2(p-1)/p (ring), shift all of it (to one peer, whatever the offset). The native runtime's link
   * model uses the same volumes.
   */
  static double collectiveBytes(String kind, int members, double inBytes) {
    if (members <= 1) {
      return 0;
    }
    int p = members;
    return switch (kind) {
      case "all_to_all", "reduce_scatter" -> (p - 1) * inBytes / p;
      case "all_gather" -> (p - 1) * inBytes;
      case "shift" -> inBytes;
      case "all_reduce" -> 2.0 * (p - 1) * inBytes / p;
      default -> throw new IllegalArgumentException("not a collective: " + kind);
    };
  }
}
