package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.Param;
import dev.pipemoe.engine.moe.RankContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The final RMSNorm, the untied vocab-parallel LM head and the cross-entropy.
 *
 * <pre>
 *   h       = rmsnorm(x), all-gathered over TP under SP       [S_chunk, M]
 *   logits  = h W^T, W this rank's rows of [V, M]              [S_chunk, V/TP]
 *   lse     = logSumExp over TP of each shard's logSumExp      (all-gather [TP, S], then the [S, TP] view)
 *   target  = pickTargets on the shard holding the target, all-reduced over TP
 *   loss    = mean over the global batch's tokens of lse - target   (on the host)
 *   dlogits = scale (softmax - onehot), scale = 1 / global tokens
 * </pre>
 */
public final class LmHead implements Trainable, AutoCloseable {
  private final RankContext ctx;
  private final GptLayout lay;
  private final RmsNorm norm;
  private final Param weight;

  public LmHead(RankContext ctx, GptLayout lay, long seed) {
    this.ctx = ctx;
    this.lay = lay;
    int m = lay.hidden();
    this.norm = new RmsNorm(ctx, "head.norm", m);
    this.weight = Ops.normal(ctx.device(), "head.weight", seed, "lm-head", 0, m, lay.vocabFirst(),
        lay.vocabShard(), 0, m, 1 / Math.sqrt(m));
  }

  /** What backward and the loss need; {@code lse} and {@code targetLogits} are [S_chunk]. */
  public record Saved(Tensor x, Tensor rstd, Tensor normed, Tensor gathered, Tensor logits,
      Tensor lse, Tensor targetLogits) implements AutoCloseable {
    @Override
    public void close() {
      rstd.close();
      if (gathered != normed) {
        gathered.close();
      }
      normed.close();
      logits.close();
      lse.close();
      targetLogits.close();
    }
  }

  public Saved forward(Tensor x, MicroBatch batch) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    int rows = lay.chunkTokens();
    ctx.label("head");
    Tensor normed = ctx.alloc(lay.localTokens(), lay.hidden());
    Tensor rstd = norm.forward(x, normed);
    Tensor gathered = normed;
    if (lay.sequenceParallel()) {
      ctx.label("head-tp");
      gathered = ctx.alloc(rows, lay.hidden());
      Ops.allGather(ctx, ctx.tp(), normed, gathered);
      ctx.label("head");
    }
    Tensor logits = ctx.alloc(rows, lay.vocabShard());
    d.gemm(s, false, true, 1f, gathered, weight.value(), 0f, logits);
    Tensor lse = ctx.alloc(rows);
    Tensor target = ctx.alloc(rows);
    d.pickTargets(s, logits, batch.targets(), lay.vocabFirst(), target);
    if (lay.tensor() == 1) {
      d.logSumExp(s, logits, lse);
    } else {
      int tp = lay.tensor();
      // the gathered [TP, S] read as its [S, TP] transpose: logSumExp is the one op that takes a
      // view whose innermost stride is not 1 (Device#logSumExp)
      try (Tensor shardLse = ctx.alloc(rows); Tensor all = ctx.alloc((long) tp * rows);
          Tensor perToken = d.view(all, 0, new long[] {rows, tp}, new long[] {1, rows})) {
        d.logSumExp(s, logits, shardLse);
        ctx.label("head-tp");
        Ops.allGather(ctx, ctx.tp(), shardLse, all);
        Ops.allReduce(ctx, ctx.tp(), target);
        ctx.label("head");
        d.logSumExp(s, perToken, lse);
      }
    }
    ctx.label(null);
    return new Saved(x, rstd, normed, gathered, logits, lse, target);
  }

  /** The sum over the chunk's tokens of their cross-entropy; read after the device synchronized. */
  public double lossSum(Saved saved) {
    float[] lse = ctx.device().readFloats(saved.lse());
    float[] target = ctx.device().readFloats(saved.targetLogits());
    double sum = 0;
    for (int i = 0; i < lse.length; i++) {
      sum += (double) lse[i] - target[i];
    }
    return sum;
  }

  /**
   * dx [S_local, M] (overwritten) of {@code scale} times the summed cross-entropy; accumulates the
   * head's gradients.
   */
  public void backward(Saved saved, MicroBatch batch, float scale, Tensor dx) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    int rows = lay.chunkTokens();
    int m = lay.hidden();
    ctx.label("head");
    try (Tensor dLogits = ctx.alloc(rows, lay.vocabShard()); Tensor dg = ctx.alloc(rows, m)) {
      d.crossEntropyBackward(s, saved.logits(), saved.lse(), batch.targets(), lay.vocabFirst(),
          scale, dLogits);
      d.gemm(s, true, false, 1f, dLogits, saved.gathered(), 1f, weight.grad());
      d.gemm(s, false, false, 1f, dLogits, weight.value(), 0f, dg);
      if (lay.sequenceParallel()) {
        ctx.label("head-tp");
        try (Tensor dn = ctx.alloc(lay.localTokens(), m)) {
          Ops.reduceScatter(ctx, ctx.tp(), dg, dn);
          ctx.label("head");
          norm.backward(saved.x(), saved.rstd(), dn, dx);
        }
      } else {
        if (lay.tensor() > 1) {
          ctx.label("head-tp");
          Ops.allReduce(ctx, ctx.tp(), dg);
          ctx.label("head");
        }
        norm.backward(saved.x(), saved.rstd(), dg, dx);
      }
    }
    ctx.label(null);
  }

  @Override
  public List<Param> params() {
    return List.of(norm.param(), weight);
  }

  /** The norm's gain as the MoE router's; the vocabulary shard over the dense group. */
  @Override
  public List<GradGroup> gradGroups() {
    List<GradGroup> groups = new ArrayList<>(2);
    GradGroup.addIfShared(groups, ctx.router(), List.of(norm.param()));
    GradGroup.addIfShared(groups, ctx.dense(), List.of(weight));
    return groups;
  }

  @Override
  public void close() {
    norm.close();
    weight.close();
  }
}
