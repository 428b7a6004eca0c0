package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.HostRandom;
import dev.pipemoe.engine.moe.Param;
import dev.pipemoe.engine.moe.RankContext;
import dev.pipemoe.engine.moe.Views;

/**
 * What the dense layers share: collectives issued from the compute stream, which then waits for
 * them (the layers overlap nothing with TP traffic), and parameter blocks drawn by global
 * coordinates, so that a parameter's values do not depend on how it is sharded.
 */
final class Ops {
  private Ops() {}

  /** All-gather on dim 0 over {@code comm}, awaited by the compute stream. */
  static void allGather(RankContext ctx, Communicator comm, Tensor in, Tensor out) {
    Event done = ctx.event();
    ctx.device().allGather(ctx.compute(), comm, in, out, done);
    ctx.device().waitEvent(ctx.compute(), done);
  }

  /** Reduce-scatter on dim 0 over {@code comm}, awaited by the compute stream. */
  static void reduceScatter(RankContext ctx, Communicator comm, Tensor in, Tensor out) {
    Event done = ctx.event();
    ctx.device().reduceScatter(ctx.compute(), comm, in, out, done);
    ctx.device().waitEvent(ctx.compute(), done);
  }

  /** In-place all-reduce over {@code comm}, awaited by the compute stream. */
  static void allReduce(RankContext ctx, Communicator comm, Tensor inOut) {
    Event done = ctx.event();
    ctx.device().allReduce(ctx.compute(), comm, inOut, inOut, done);
    ctx.device().waitEvent(ctx.compute(), done);
  }

  /**
   * Rows [r0, r0 + rows) and columns [c0, c0 + cols) of the full {@code fullRows x fullCols}
   * matrix {@code name} of layer {@code layer}, N(0, std^2).
   */
  static Param normal(Device d, String paramName, long seed, String name, int layer, long fullCols,
      long r0, long rows, long c0, long cols, double std) {
    return new Param(d, paramName, rows, cols, () -> HostRandom.normalBlock(
        HostRandom.key(seed, name, layer), fullCols, r0, r0 + rows, c0, c0 + cols, std));
  }

  /** A [1, n] parameter seen as the rank-1 [n] vector the norm ops take. */
  static Tensor vector(Device d, Tensor row) {
    return Views.reshape(d, row, row.numel());
  }
}
