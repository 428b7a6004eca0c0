package dev.pipemoe.engine.metrics;

import dev.pipemoe.engine.moe.LayerShape;
import java.util.Locale;

/**
 * Bytes one rank sends per training step in the serial schedule, and how many collectives carry
 * them (docs/reference.md §3; link-model volumes: all-to-all and reduce-scatter (p-1)/p of
 * their input, all-gather (p-1) times it, all-reduce 2(p-1)/p). D = E*C*M dispatched elements,
 * beta the wire dtype's bytes, G_col the column linears (2 with SwiGLU, else 1).
 *
 * <pre>
 *   EP   4 all-to-alls (dispatch, combine, and their gradients):      4 (EP-1)/EP D beta
 *   TP   SP:    AG per column linear, RS; BAG, AG and RS per column:  (TP-1) D beta (3 G_col + 2)
 *        no SP: AR of the output; AR of each column's fp32 dgrad:     2 (TP-1)/TP D (beta + 4 G_col)
 * </pre>
 *
 * Gradient reductions of the router and replicated experts are left out: they are the same in
 * every schedule and small next to the layer's traffic.
 */
public record CommVolume(double epBytes, double tpBytes, int epCollectives, int tpCollectives) {

  /** The collectives the link model prices. */
  public enum Collective {
    ALL_TO_ALL, ALL_GATHER, REDUCE_SCATTER, ALL_REDUCE;

    /** The op's name in timelines ("all_to_all"). */
    public String opName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Bytes one member sends in a collective over {@code members} ranks with {@code inBytes} of
   * input each, as the link model counts them: all-to-all and reduce-scatter (p-1)/p of the
   * input, all-gather (p-1) times it, all-reduce 2(p-1)/p; a group of one sends nothing. The
   * native runtime computes the same (a test in native-bridge holds the two together).
   */
  public static double collectiveBytes(Collective kind, int members, double inBytes) {
    int p = members;
    if (p <= 1) {
      return 0;
    }
    return switch (kind) {
      case ALL_TO_ALL, REDUCE_SCATTER -> (p - 1) * inBytes / p;
      case ALL_GATHER -> (p - 1) * inBytes;
      case ALL_REDUCE -> 2.0 * (p - 1) * inBytes / p;
    };
  }

  public static CommVolume serialStep(LayerShape shape, int layers) {
    double d = (double) shape.experts() * shape.capacity() * shape.hidden();
    double beta = shape.wire().bytes();
    int ep = shape.expert();
    int tp = shape.tensor();
    int columns = shape.swiglu() ? 2 : 1;
    int local = shape.localExperts();
    double perExpert = d / local;  // elements of one local expert's dispatched block
    double epBytes = 4 * collectiveBytes(Collective.ALL_TO_ALL, ep, d * beta);
    int epCount = ep > 1 ? 4 : 0;
    double tpBytes = 0;
    int tpCount = 0;
    if (tp > 1 && shape.sequenceParallel()) {
      // an all-gather of a block and a reduce-scatter of TP blocks send the same (TP-1) blocks
      tpCount = local * (3 * columns + 2);
      tpBytes = tpCount * collectiveBytes(Collective.ALL_GATHER, tp, perExpert * beta);
    } else if (tp > 1) {
      tpBytes = local * (collectiveBytes(Collective.ALL_REDUCE, tp, perExpert * beta)
          + columns * collectiveBytes(Collective.ALL_REDUCE, tp, perExpert * 4));
      tpCount = local * (1 + columns);
    }
    return new CommVolume(epBytes * layers, tpBytes * layers, epCount * layers,
        tpCount * layers);
  }

  public double bytes() {
    return epBytes + tpBytes;
  }

  public int collectives() {
    return epCollectives + tpCollectives;
  }
}
