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
 * step needs to know about it, which replicas hold its parameters and what it reports. In the MoE
 * stack the layer carries its own residual ({@code y = x + moe(x)}); in the whole model the block
 * is pre-norm, {@code y = x + moe(rmsnorm(x))}, its norm labelled {@code moe-norm}.
 */
public final class MoeBlock implements Layer {
  private final RankContext ctx;
  private final MoeLayer layer;
  private final RmsNorm norm;

  /** Layer {@code index}'s parameters drawn from {@code seed}, run with {@code schedule}. */
  public MoeBlock(RankContext ctx, long seed, int index, Schedule schedule) {
    this(ctx, seed, index, schedule, false);
  }

  /** With {@code preNorm}, the whole model's block: an RMSNorm before the MoE layer. */
  public MoeBlock(RankContext ctx, long seed, int index, Schedule schedule, boolean preNorm) {
    this.ctx = ctx;
    LayerParams params = LayerParams.init(ctx.device(), ctx.shape(), ctx.topology(), seed, index);
    this.layer = new MoeLayer(ctx, params, schedule, !preNorm);
    this.norm = preNorm ? new RmsNorm(ctx, "layer" + index + ".moe-norm", ctx.shape().hidden())
        : null;
  }

  /** The normed input and its rstd exist only with a pre-norm. */
  private record Saved(MoeLayer.Activations act, Tensor x, Tensor normed, Tensor rstd)
      implements Layer.Saved {
    @Override
    public void close() {
      act.close();
      if (normed != null) {
        normed.close();
        rstd.close();
      }
    }
  }

  @Override
  public Layer.Saved forward(Tensor x, Tensor y) {
    if (norm == null) {
      return new Saved(layer.forward(x, y), x, null, null);
    }
    ctx.label("moe-norm");
    Tensor normed = ctx.alloc(x.shape());
    Tensor rstd = norm.forward(x, normed);
    MoeLayer.Activations act;
    try (Tensor out = ctx.alloc(x.shape())) {
      act = layer.forward(normed, out);
      ctx.label("combine-post");
      ctx.device().add(ctx.compute(), x, out, y);
    }
    ctx.label(null);
    return new Saved(act, x, normed, rstd);
  }

  @Override
  public void backward(Layer.Saved saved, Tensor dy, Tensor dx) {
    Saved s = own(saved);
    if (norm == null) {
      layer.backward(s.act(), dy, dx);
      return;
    }
    try (Tensor dNormed = ctx.alloc(dx.shape())) {
      layer.backward(s.act(), dy, dNormed);
      ctx.label("moe-norm");
      norm.backward(s.x(), s.rstd(), dNormed, dx);
      ctx.device().axpy(ctx.compute(), 1f, dy, dx);
    }
    ctx.label(null);
  }

  @Override
  public List<Param> params() {
    List<Param> all = new ArrayList<>();
    if (norm != null) {
      all.add(norm.param());
    }
    all.addAll(layer.params().all());
    return all;
  }

  /**
   * The router (and the pre-norm's gain) over the ranks that see other tokens (TP under SP, and
   * DP), each expert shard over the data ranks that hold the same one.
   */
  @Override
  public List<GradGroup> gradGroups() {
    List<GradGroup> groups = new ArrayList<>(2);
    List<Param> replicated = new ArrayList<>(2);
    if (norm != null) {
      replicated.add(norm.param());
    }
    replicated.add(layer.params().router());
    GradGroup.addIfShared(groups, ctx.router(), replicated);
    GradGroup.addIfShared(groups, ctx.expertReplicas(), layer.params().expertParams());
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
    if (norm != null) {
      norm.close();
    }
  }

  private static Saved own(Layer.Saved saved) {
    if (saved instanceof Saved s) {
      return s;
    }
    throw new IllegalArgumentException("not an MoE block's forward state: " + saved);
  }
}
