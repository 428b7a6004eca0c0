package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.Param;
import dev.pipemoe.engine.moe.RankContext;
import java.util.ArrayList;
import java.util.List;

/**
 * Token and learned absolute position embeddings. The token table is vocab-parallel: this rank
 * holds rows [first, first + V/TP) of [V, M] and embeds the tokens that fall in them (the others
 * get zeros); the sum over TP (all-reduce, or reduce-scatter to sequence shards under SP) gives
 * every token its row. The position table [seq, M] is replicated; each rank adds the rows of its
 * own positions (its CP chunk, its SP shard) after the reduction.
 */
public final class Embedding implements Trainable, AutoCloseable {
  /** Embedding init std: unit-scale rows, as the pre-norm blocks see them normalised anyway. */
  static final double TOKEN_STD = 1.0;
  static final double POSITION_STD = 0.1;

  private final RankContext ctx;
  private final GptLayout lay;
  private final Param tokens;
  private final Param positions;

  public Embedding(RankContext ctx, GptLayout lay, long seed) {
    this.ctx = ctx;
    this.lay = lay;
    Device d = ctx.device();
    int m = lay.hidden();
    this.tokens = Ops.normal(d, "embedding.tokens", seed, "embedding", 0, m, lay.vocabFirst(),
        lay.vocabShard(), 0, m, TOKEN_STD);
    this.positions = Ops.normal(d, "embedding.positions", seed, "positions", 0, m, 0,
        lay.seqLength(), 0, m, POSITION_STD);
  }

  /** x [S_local, M] for the micro-batch. */
  public void forward(MicroBatch batch, Tensor x) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    ctx.label("embedding");
    if (lay.sequenceParallel()) {
      try (Tensor e = ctx.alloc(lay.chunkTokens(), lay.hidden())) {
        d.gatherRows(s, tokens.value(), batch.vocabRows(), null, 0f, e);
        ctx.label("embedding-tp");
        Ops.reduceScatter(ctx, ctx.tp(), e, x);
      }
    } else {
      d.gatherRows(s, tokens.value(), batch.vocabRows(), null, 0f, x);
      if (lay.tensor() > 1) {
        ctx.label("embedding-tp");
        Ops.allReduce(ctx, ctx.tp(), x);
      }
    }
    ctx.label("embedding");
    d.gatherRows(s, positions.value(), batch.positions(), null, 1f, x);
    ctx.label(null);
  }

  /** Accumulates the tables' gradients from dx [S_local, M]. */
  public void backward(MicroBatch batch, Tensor dx) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    ctx.label("embedding");
    d.scatterAddRows(s, dx, batch.positions(), null, positions.grad());
    if (lay.sequenceParallel()) {
      ctx.label("embedding-tp");
      try (Tensor full = ctx.alloc(lay.chunkTokens(), lay.hidden())) {
        Ops.allGather(ctx, ctx.tp(), dx, full);
        ctx.label("embedding");
        d.scatterAddRows(s, full, batch.vocabRows(), null, tokens.grad());
      }
    } else {
      d.scatterAddRows(s, dx, batch.vocabRows(), null, tokens.grad());
    }
    ctx.label(null);
  }

  @Override
  public List<Param> params() {
    return List.of(tokens, positions);
  }

  /** The token table's shard over the dense group; the position table as the MoE router. */
  @Override
  public List<GradGroup> gradGroups() {
    List<GradGroup> groups = new ArrayList<>(2);
    GradGroup.addIfShared(groups, ctx.dense(), List.of(tokens));
    GradGroup.addIfShared(groups, ctx.router(), List.of(positions));
    return groups;
  }

  @Override
  public void close() {
    tokens.close();
    positions.close();
  }
}
