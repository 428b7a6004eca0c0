package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.LayerParams;
import dev.pipemoe.engine.moe.MoeLayer;
import dev.pipemoe.engine.moe.Param;
import dev.pipemoe.engine.moe.RankContext;
import dev.pipemoe.engine.schedule.Schedule;
import java.util.ArrayList;
import java.util.List;

/**
 * The MoE layer as a {@link Layer}: {@link MoeLayer} does the math; this adds what the training
 * step needs to know about it, which replicas hold its parameters and what it reports.
 */
public final class MoeBlock implements Layer {
  private final RankContext ctx;
  private final MoeLayer layer;

  /** Layer {@code index}'s parameters drawn from {@code seed}, run with {@code schedule}. */
  public MoeBlock(RankContext ctx, long seed, int index, Schedule schedule) {
    this.ctx = ctx;
    LayerParams params = LayerParams.init(ctx.device(), ctx.shape(), ctx.topology(), seed, index);
    this.layer = new MoeLayer(ctx, params, schedule);
  }

  private record Saved(MoeLayer.Activations act) implements Layer.Saved {
    @Override
    public void close() {
      act.close();
    }
  }

  @Override
  public Layer.Saved forward(Tensor x, Tensor y) {
    return new Saved(layer.forward(x, y));
  }

  @Override
  public void backward(Layer.Saved saved, Tensor dy, Tensor dx) {
    layer.backward(own(saved).act(), dy, dx);
  }

  @Override
  public List<Param> params() {
    return layer.params().all();
  }

  /**
   * The router over the ranks that see other tokens (TP under SP, and DP), each expert shard over
   * the data ranks that hold the same one.
   */
  @Override
  public List<GradGroup> gradGroups() {
    List<GradGroup> groups = new ArrayList<>(2);
    if (ctx.router() != null) {
      groups.add(new GradGroup(ctx.router(), List.of(layer.params().router())));
    }
    if (ctx.expertReplicas() != null) {
      groups.add(new GradGroup(ctx.expertReplicas(), layer.params().expertParams()));
    }
    return groups;
  }

  @Override
  public LayerStats stats(Layer.Saved saved) {
    MoeLayer.Activations act = own(saved).act();
    Device d = ctx.device();
    return new LayerStats(d.readFloats(act.auxLoss())[0], d.readInts(act.dropped())[0]);
  }

  @Override
  public void close() {
    layer.close();
  }

  private static Saved own(Layer.Saved saved) {
    if (saved instanceof Saved s) {
      return s;
    }
    throw new IllegalArgumentException("not an MoE block's forward state: " + saved);
  }
}
