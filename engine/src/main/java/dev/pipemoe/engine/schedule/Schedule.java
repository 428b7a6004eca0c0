package dev.pipemoe.engine.schedule;

import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.LayerParams;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.moe.RankContext;

/**
 * How one rank orders the dispatch, expert and combine work of an MoE layer: which collectives it
 * issues from which stream, after waiting for what. Every schedule computes the same function; they
 * differ only in time (and in the rounding of a changed summation order).
 *
 * <p>The layer hands a schedule the dispatched tensor [E, C, M] (wire dtype, rows ordered by {@link
 * #expertRows}) and gets back the combined tensor of the same layout; backward mirrors it.
 */
public interface Schedule {

  /** A short name for tables and timelines ("serial", "mindspeed ms N=2"). */
  String name();

  /**
   * The row of each expert e in the dispatched tensor. Serial: e. Pipe-experts: expert-strided,
   * row i*EP + j holds local expert i of EP rank j, so one all-to-all of a row block reaches every
   * EP rank's expert i (docs/reference.md §4.1).
   */
  int[] expertRows(LayerShape shape);

  /** Dispatch, experts, combine. Returns what backward needs; the caller closes it after backward. */
  Saved forward(RankContext ctx, LayerParams params, Tensor dispatched, Tensor combined);

  /** The gradient of the combined tensor back to the gradient of the dispatched one. */
  void backward(RankContext ctx, LayerParams params, Saved saved, Tensor dCombined,
      Tensor dDispatched);

  /** A schedule's forward state. */
  interface Saved extends AutoCloseable {
    @Override
    void close();
  }

  /** Rows in expert order: row e holds expert e. */
  static int[] identityRows(LayerShape shape) {
    int[] rows = new int[shape.experts()];
    for (int e = 0; e < rows.length; e++) {
      rows[e] = e;
    }
    return rows;
  }

  /** Expert e = j*L + i (EP rank j, local expert i) sits at row i*EP + j. */
  static int[] expertStridedRows(LayerShape shape) {
    int local = shape.localExperts();
    int ep = shape.expert();
    int[] rows = new int[shape.experts()];
    for (int e = 0; e < rows.length; e++) {
      rows[e] = (e % local) * ep + e / local;
    }
    return rows;
  }
}
