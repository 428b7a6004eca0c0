package dev.pipemoe.engine.sim;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;

/**
 * What the simulated device knows of one accelerator: a data file under {@code
 * dev/pipemoe/engine/sim/profiles/NAME.properties}, every figure with its source (docs/engine.md,
 * "Simulated device"). Per device = per HCCL/NCCL rank (a 910C die).
 *
 * @param ranksPerNode devices that share a node's scale-up domain; groups inside one node use the
 *     intra figures, groups spanning nodes the inter figures
 * @param peakFlops dense BF16 FLOP/s
 * @param gemmEfficiency the share of peak that large GEMMs reach
 * @param gemmHalfDim the GEMM dimension at which that dimension alone halves the efficiency
 * @param hbmBandwidth bytes/s; memory-bound ops reach {@code hbmEfficiency} of it
 * @param launchSeconds fixed cost of every op, collectives included
 * @param unifiedLinks whether traffic to peers outside the node uses the same links as traffic
 *     inside it (910C: one UB port set), so that EP and TP transfers always share
 * @param congestion the factor (&ge; 1) by which transfers sharing a link slow each other beyond
 *     fair sharing
 * @param elementSeconds per op name, the seconds its arithmetic takes per element, for devices on
 *     which elementwise ops are bound by arithmetic rather than bytes (a CPU: erf, exp, sqrt);
 *     measured, never from a data file; empty on accelerators, whose elementwise ops are
 *     bandwidth-bound
 */
public record HardwareProfile(String name, String description, int ranksPerNode,
    double peakFlops, double gemmEfficiency, double gemmHalfDim, double hbmBandwidth,
    double hbmEfficiency, double launchSeconds, Link intra, Link inter, boolean unifiedLinks,
    double congestion, java.util.Map<String, Double> elementSeconds) {

  /** A profile whose elementwise ops are bound by bytes alone. */
  public HardwareProfile(String name, String description, int ranksPerNode, double peakFlops,
      double gemmEfficiency, double gemmHalfDim, double hbmBandwidth, double hbmEfficiency,
      double launchSeconds, Link intra, Link inter, boolean unifiedLinks, double congestion) {
    this(name, description, ranksPerNode, peakFlops, gemmEfficiency, gemmHalfDim, hbmBandwidth,
        hbmEfficiency, launchSeconds, intra, inter, unifiedLinks, congestion, java.util.Map.of());
  }

  /** The profiles shipped with the engine. */
  public static final List<String> NAMES = List.of("ascend-910c", "ascend-910b", "h100", "h200",
      "a100", "cpu");

  /** A link class: per-rank bus bandwidth in bytes/s (0: free) and latency alpha per step. */
  public record Link(double bandwidth, double latency) {}

  public HardwareProfile {
    if (ranksPerNode < 1 || !(peakFlops > 0) || !(gemmEfficiency > 0) || !(hbmBandwidth > 0)
        || !(hbmEfficiency > 0) || !(congestion >= 1)) {
      throw new IllegalArgumentException("profile " + name + ": ranksPerNode >= 1, peakFlops,"
          + " gemmEfficiency, hbmBandwidth, hbmEfficiency > 0 and congestion >= 1 are required");
    }
    elementSeconds = java.util.Map.copyOf(elementSeconds);
  }

  /** A shipped profile by name; the message lists the names when there is none. */
  public static HardwareProfile load(String name) {
    String path = "profiles/" + name + ".properties";
    try (InputStream in = HardwareProfile.class.getResourceAsStream(path)) {
      if (in == null || !NAMES.contains(name)) {
        throw new IllegalArgumentException("no hardware profile '" + name + "'; profiles: "
            + String.join(", ", NAMES));
      }
      Properties p = new Properties();
      p.load(in);
      return of(p);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + path, e);
    }
  }

  static HardwareProfile of(Properties p) {
    return new HardwareProfile(p.getProperty("name"), p.getProperty("description", ""),
        (int) number(p, "ranksPerNode"), number(p, "peakFlops"), number(p, "gemmEfficiency"),
        number(p, "gemmHalfDim"), number(p, "hbmBandwidth"), number(p, "hbmEfficiency"),
        number(p, "launchSeconds"),
        new Link(number(p, "intraBandwidth"), number(p, "intraLatency")),
        new Link(number(p, "interBandwidth"), number(p, "interLatency")),
        Boolean.parseBoolean(p.getProperty("unifiedLinks")), number(p, "congestion"));
  }

  private static double number(Properties p, String key) {
    String v = p.getProperty(key);
    if (v == null) {
      throw new IllegalArgumentException("profile " + p.getProperty("name") + " lacks " + key);
    }
    return Double.parseDouble(v.trim());
  }

  /** The same device with other compute and memory figures (the measured {@code cpu} profile). */
  public HardwareProfile withCompute(double peak, double efficiency, double hbm, double launch) {
    return new HardwareProfile(name, description, ranksPerNode, peak, efficiency, gemmHalfDim, hbm,
        hbmEfficiency, launch, intra, inter, unifiedLinks, congestion, elementSeconds);
  }

  /** The same device with another GEMM half-dimension (the measured {@code cpu} profile). */
  public HardwareProfile withGemmHalfDim(double h) {
    return new HardwareProfile(name, description, ranksPerNode, peakFlops, gemmEfficiency, h,
        hbmBandwidth, hbmEfficiency, launchSeconds, intra, inter, unifiedLinks, congestion,
        elementSeconds);
  }

  /** The same device with other links (the link model the native emulation runs with). */
  public HardwareProfile withLinks(Link intraLink, Link interLink, boolean unified,
      double congestionFactor) {
    return new HardwareProfile(name, description, ranksPerNode, peakFlops, gemmEfficiency,
        gemmHalfDim, hbmBandwidth, hbmEfficiency, launchSeconds, intraLink, interLink, unified,
        congestionFactor, elementSeconds);
  }

  /** The same device with another scale-up domain size (a pool's nodes). */
  public HardwareProfile withRanksPerNode(int n) {
    return new HardwareProfile(name, description, n, peakFlops, gemmEfficiency, gemmHalfDim,
        hbmBandwidth, hbmEfficiency, launchSeconds, intra, inter, unifiedLinks, congestion,
        elementSeconds);
  }

  /** The same device with measured arithmetic times of elementwise ops (the cpu profile). */
  public HardwareProfile withElementSeconds(java.util.Map<String, Double> perOp) {
    return new HardwareProfile(name, description, ranksPerNode, peakFlops, gemmEfficiency,
        gemmHalfDim, hbmBandwidth, hbmEfficiency, launchSeconds, intra, inter, unifiedLinks,
        congestion, perOp);
  }

  /** How many nodes {@code worldSize} ranks fill, {@link #ranksPerNode} to a node. */
  public int nodes(int worldSize) {
    return (worldSize + ranksPerNode - 1) / ranksPerNode;
  }

  /**
   * One line for a report: the ranks on their nodes ({@code layout}, e.g. "TP=2 DP=4 EP=4", in
   * parentheses when given), the links and the compute figures.
   */
  public String topology(int worldSize, String layout) {
    return String.format(java.util.Locale.ROOT, "%d ranks on %d node(s) of %d%s; intra-node"
            + " %.0f GB/s, %.0f us; inter-node %.0f GB/s, %.0f us; %s, congestion %.2f; peak %.1f"
            + " TFLOPS x %.2f, HBM %.0f GB/s, launch %.1f us",
        worldSize, nodes(worldSize), ranksPerNode, layout.isEmpty() ? "" : " (" + layout + ")",
        intra.bandwidth() / 1e9, intra.latency() * 1e6, inter.bandwidth() / 1e9,
        inter.latency() * 1e6,
        unifiedLinks ? "unified links (EP and TP share)" : "separate intra/inter links", congestion,
        peakFlops / 1e12, gemmEfficiency, hbmBandwidth / 1e9, launchSeconds * 1e6);
  }
}
