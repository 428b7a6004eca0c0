package dev.pipemoe.engine.metrics;

import dev.pipemoe.engine.moe.LayerShape;

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

  public static CommVolume serialStep(LayerShape shape, int layers) {
    double d = (double) shape.experts() * shape.capacity() * shape.hidden();
    double beta = shape.wire().bytes();
    int ep = shape.expert();
    int tp = shape.tensor();
    int columns = shape.swiglu() ? 2 : 1;
    int local = shape.localExperts();
    double epBytes = ep > 1 ? 4.0 * (ep - 1) / ep * d * beta : 0;
    int epCount = ep > 1 ? 4 : 0;
    double tpBytes = 0;
    int tpCount = 0;
    if (tp > 1 && shape.sequenceParallel()) {
      tpBytes = (tp - 1) * d * beta * (3 * columns + 2);
      tpCount = local * (3 * columns + 2);
    } else if (tp > 1) {
      tpBytes = 2.0 * (tp - 1) / tp * d * (beta + 4 * columns);
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
