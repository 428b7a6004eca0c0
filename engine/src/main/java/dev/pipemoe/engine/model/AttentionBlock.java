package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.Param;
import dev.pipemoe.engine.moe.RankContext;
import dev.pipemoe.engine.moe.Views;
import java.util.ArrayList;
import java.util.List;

/**
 * Causal self-attention with a pre-norm and a residual: {@code y = x + proj(attn(rmsnorm(x)))}
 * (docs/engine.md, "The whole model").
 *
 * <pre>
 *   h      = rmsnorm(x)                       [S_local, M]
 *   hg     = all-gather_TP(h) under SP, else h [S_chunk, M]
 *   q,k,v  = hg Wq^T, hg Wk^T, hg Wv^T          [S_chunk, M/TP]  (column-parallel: this rank's heads)
 *   K/V of every CP chunk round the CP ring (shift), each block's scores computed as it arrives
 *   p      = causal softmax(q k^T / sqrt(d))   per sample and head, over the chunks 0..c
 *   a      = p v                               [S_chunk, M/TP]
 *   out    = a Wo^T                            [S_chunk, M] partial over TP (row-parallel)
 *   y      = x + reduce-scatter_TP(out) under SP, else x + all-reduce_TP(out)
 * </pre>
 *
 * K and V of a chunk travel as one [2, S_chunk, M/TP] block; their gradients come back to the
 * chunk's owner with one reduce-scatter over CP.
 */
public final class AttentionBlock implements Layer {
  private final RankContext ctx;
  private final GptLayout lay;
  private final RmsNorm norm;
  private final Param wq;
  private final Param wk;
  private final Param wv;
  private final Param wo;
  private final float scale;

  public AttentionBlock(RankContext ctx, GptLayout lay, long seed, int layer) {
    this.ctx = ctx;
    this.lay = lay;
    Device d = ctx.device();
    int m = lay.hidden();
    int mt = lay.hiddenShard();
    long r0 = (long) lay.tpIndex() * mt;
    double std = 1 / Math.sqrt(m);
    String p = "layer" + layer + ".attention.";
    this.norm = new RmsNorm(ctx, p + "norm", m);
    this.wq = Ops.normal(d, p + "wq", seed, "wq", layer, m, r0, mt, 0, m, std);
    this.wk = Ops.normal(d, p + "wk", seed, "wk", layer, m, r0, mt, 0, m, std);
    this.wv = Ops.normal(d, p + "wv", seed, "wv", layer, m, r0, mt, 0, m, std);
    this.wo = Ops.normal(d, p + "wo", seed, "wo", layer, m, 0, m, r0, mt, std);
    this.scale = (float) (1 / Math.sqrt(lay.headDim()));
  }

  /** kv [CP, 2, S_chunk, M/TP]: K and V of every chunk (those after this rank's never read). */
  private record Saved(Tensor x, Tensor rstd, Tensor hg, Tensor q, Tensor kv, Tensor probs,
      Tensor attn) implements Layer.Saved {
    @Override
    public void close() {
      for (Tensor t : new Tensor[] {rstd, hg, q, kv, probs, attn}) {
        t.close();
      }
    }
  }

  /** Keys a query chunk sees: the chunks 0..c. */
  private int keys() {
    return (lay.cpIndex() + 1) * lay.chunk();
  }

  @Override
  public Layer.Saved forward(Tensor x, Tensor y) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    int m = lay.hidden();
    int mt = lay.hiddenShard();
    int rows = lay.chunkTokens();
    int cp = lay.context();
    int c = lay.cpIndex();

    ctx.label("attention-norm");
    Tensor h = ctx.alloc(lay.localTokens(), m);
    Tensor rstd = norm.forward(x, h);
    Tensor hg = gatherIn(h);

    ctx.label("attention");
    Tensor q = ctx.alloc(rows, mt);
    Tensor kv = ctx.alloc(cp, 2, rows, mt);
    try (Tensor k = kvBlock(kv, c, 0); Tensor v = kvBlock(kv, c, 1)) {
      d.gemm(s, false, true, 1f, hg, wq.value(), 0f, q);
      d.gemm(s, false, true, 1f, hg, wk.value(), 0f, k);
      d.gemm(s, false, true, 1f, hg, wv.value(), 0f, v);
    }
    Event[] arrived = ringKv(kv);

    // scores of each block j = c, c-1, ..., 0 as it arrives, into the columns of chunk j
    int b = lay.microBatchSize();
    int heads = lay.headShard();
    Tensor scores = ctx.alloc((long) b * heads, lay.chunk(), keys());
    for (int i = 0; i <= c; i++) {
      int j = c - i;
      if (arrived[i] != null) {
        d.waitEvent(s, arrived[i]);
      }
      for (int sample = 0; sample < b; sample++) {
        try (Tensor qs = headsView(q, 0, sample); Tensor ks = kvHeads(kv, j, 0, sample);
            Tensor sc = scoreBlock(scores, sample, j)) {
          d.gemm(s, false, true, 1f, qs, ks, 0f, sc);
        }
      }
    }
    Tensor probs = ctx.alloc((long) b * heads, lay.chunk(), keys());
    d.causalSoftmax(s, scores, scale, lay.chunkFirst(), probs);
    scores.close();
    Tensor attn = ctx.alloc(rows, mt);
    for (int sample = 0; sample < b; sample++) {
      for (int j = 0; j <= c; j++) {
        try (Tensor ps = scoreBlock(probs, sample, j); Tensor vs = kvHeads(kv, j, 1, sample);
            Tensor as = headsView(attn, 0, sample)) {
          d.gemm(s, false, false, 1f, ps, vs, j == 0 ? 0f : 1f, as);
        }
      }
    }
    try (Tensor out = ctx.alloc(rows, m)) {
      d.gemm(s, false, true, 1f, attn, wo.value(), 0f, out);
      ctx.label("attention-tp");
      if (lay.sequenceParallel()) {
        try (Tensor o = ctx.alloc(lay.localTokens(), m)) {
          Ops.reduceScatter(ctx, ctx.tp(), out, o);
          ctx.label("attention");
          d.add(s, x, o, y);
        }
      } else {
        if (lay.tensor() > 1) {
          Ops.allReduce(ctx, ctx.tp(), out);
        }
        ctx.label("attention");
        d.add(s, x, out, y);
      }
    }
    if (hg != h) {
      h.close();
    }
    ctx.label(null);
    return new Saved(x, rstd, hg, q, kv, probs, attn);
  }

  /** Under SP the normed input is all-gathered over TP; without it every TP rank has it whole. */
  private Tensor gatherIn(Tensor h) {
    if (!lay.sequenceParallel()) {
      return h;
    }
    ctx.label("attention-tp");
    Tensor hg = ctx.alloc(lay.chunkTokens(), lay.hidden());
    Ops.allGather(ctx, ctx.tp(), h, hg);
    return hg;
  }

  /**
   * Sends this rank's K/V block round the CP ring: after shift i (i = 1..CP-1) the rank holds
   * chunk (c - i) mod CP. Returns, per i, the event of that block's arrival (null for i = 0).
   */
  private Event[] ringKv(Tensor kv) {
    int cp = lay.context();
    Event[] arrived = new Event[cp];
    if (cp == 1) {
      return arrived;
    }
    Device d = ctx.device();
    ctx.label("attention-cp");
    Event ready = ctx.event();
    d.record(ready, ctx.compute());
    d.waitEvent(ctx.cpIssue(), ready);
    int c = lay.cpIndex();
    for (int i = 1; i < cp; i++) {
      arrived[i] = ctx.event();
      try (Tensor from = Views.select(d, kv, 0, Math.floorMod(c - i + 1, cp));
          Tensor to = Views.select(d, kv, 0, Math.floorMod(c - i, cp))) {
        d.shift(ctx.cpIssue(), ctx.cp(), 1, from, to, arrived[i]);
      }
    }
    ctx.label("attention");
    return arrived;
  }

  @Override
  public void backward(Layer.Saved saved, Tensor dy, Tensor dx) {
    Saved a = own(saved);
    Device d = ctx.device();
    Stream s = ctx.compute();
    int m = lay.hidden();
    int mt = lay.hiddenShard();
    int rows = lay.chunkTokens();
    int cp = lay.context();
    int c = lay.cpIndex();
    int b = lay.microBatchSize();
    int heads = lay.headShard();

    Tensor dOut = dy;
    if (lay.sequenceParallel()) {
      ctx.label("attention-tp");
      dOut = ctx.alloc(rows, m);
      Ops.allGather(ctx, ctx.tp(), dy, dOut);
    }
    ctx.label("attention");
    Tensor dAttn = ctx.alloc(rows, mt);
    d.gemm(s, true, false, 1f, dOut, a.attn(), 1f, wo.grad());
    d.gemm(s, false, false, 1f, dOut, wo.value(), 0f, dAttn);
    if (dOut != dy) {
      dOut.close();
    }
    Tensor dkv = ctx.alloc(cp, 2, rows, mt);
    Tensor dProbs = ctx.alloc((long) b * heads, lay.chunk(), keys());
    for (int sample = 0; sample < b; sample++) {
      for (int j = 0; j <= c; j++) {
        try (Tensor das = headsView(dAttn, 0, sample); Tensor vs = kvHeads(a.kv(), j, 1, sample);
            Tensor dps = scoreBlock(dProbs, sample, j); Tensor ps = scoreBlock(a.probs(), sample, j);
            Tensor dvs = kvHeads(dkv, j, 1, sample)) {
          d.gemm(s, false, true, 1f, das, vs, 0f, dps);
          d.gemm(s, true, false, 1f, ps, das, 0f, dvs);
        }
      }
    }
    dAttn.close();
    Tensor dScores = ctx.alloc((long) b * heads, lay.chunk(), keys());
    d.causalSoftmaxBackward(s, a.probs(), dProbs, scale, dScores);
    dProbs.close();
    Tensor dq = ctx.alloc(rows, mt);
    for (int sample = 0; sample < b; sample++) {
      for (int j = 0; j <= c; j++) {
        try (Tensor dss = scoreBlock(dScores, sample, j); Tensor ks = kvHeads(a.kv(), j, 0, sample);
            Tensor qs = headsView(a.q(), 0, sample); Tensor dqs = headsView(dq, 0, sample);
            Tensor dks = kvHeads(dkv, j, 0, sample)) {
          d.gemm(s, false, false, 1f, dss, ks, j == 0 ? 0f : 1f, dqs);
          d.gemm(s, true, false, 1f, dss, qs, 0f, dks);
        }
      }
    }
    dScores.close();
    Tensor dkvOwn = dkv;
    if (cp > 1) {
      // every rank computed the gradient of the K/V blocks it saw; each block's owner sums them
      ctx.label("attention-cp");
      dkvOwn = ctx.alloc(1, 2, rows, mt);
      try (Tensor in = Views.reshape(d, dkv, (long) cp * 2 * rows, mt);
          Tensor out = Views.reshape(d, dkvOwn, 2L * rows, mt)) {
        Ops.reduceScatter(ctx, ctx.cp(), in, out);
      }
      ctx.label("attention");
    }
    Tensor dhg = ctx.alloc(rows, m);
    int own = cp > 1 ? 0 : c;
    try (Tensor dk = kvBlock(dkvOwn, own, 0); Tensor dv = kvBlock(dkvOwn, own, 1)) {
      d.gemm(s, true, false, 1f, dq, a.hg(), 1f, wq.grad());
      d.gemm(s, true, false, 1f, dk, a.hg(), 1f, wk.grad());
      d.gemm(s, true, false, 1f, dv, a.hg(), 1f, wv.grad());
      d.gemm(s, false, false, 1f, dq, wq.value(), 0f, dhg);
      d.gemm(s, false, false, 1f, dk, wk.value(), 1f, dhg);
      d.gemm(s, false, false, 1f, dv, wv.value(), 1f, dhg);
    }
    dq.close();
    if (dkvOwn != dkv) {
      dkvOwn.close();
    }
    dkv.close();
    Tensor dh = dhg;
    if (lay.sequenceParallel()) {
      ctx.label("attention-tp");
      dh = ctx.alloc(lay.localTokens(), m);
      Ops.reduceScatter(ctx, ctx.tp(), dhg, dh);
    } else if (lay.tensor() > 1) {
      ctx.label("attention-tp");
      Ops.allReduce(ctx, ctx.tp(), dhg);
    }
    ctx.label("attention-norm");
    norm.backward(a.x(), a.rstd(), dh, dx);
    d.axpy(s, 1f, dy, dx);
    if (dh != dhg) {
      dh.close();
    }
    dhg.close();
    ctx.label(null);
  }

  /** Block j's K (part 0) or V (part 1): [S_chunk, M/TP], contiguous. */
  private Tensor kvBlock(Tensor kv, int j, int part) {
    Device d = ctx.device();
    try (Tensor block = Views.select(d, kv, 0, j)) {
      return Views.select(d, block, 0, part);
    }
  }

  /** Sample b's rows of block j's K or V, seen per head: [H/TP, chunk, d]. */
  private Tensor kvHeads(Tensor kv, int j, int part, int sample) {
    try (Tensor block = kvBlock(kv, j, part)) {
      return headsView(block, 0, sample);
    }
  }

  /** Sample b's rows of a [S_chunk, M/TP] tensor, seen per head: [H/TP, chunk, d]. */
  private Tensor headsView(Tensor t, long offset, int sample) {
    int mt = lay.hiddenShard();
    int dh = lay.headDim();
    long rowStride = t.strides()[0];
    return ctx.device().view(t, offset + (long) sample * lay.chunk() * rowStride,
        new long[] {lay.headShard(), lay.chunk(), dh}, new long[] {dh, rowStride, 1});
  }

  /** Sample b's columns of chunk j in a [b x H/TP, chunk, keys] tensor: [H/TP, chunk, chunk]. */
  private Tensor scoreBlock(Tensor scores, int sample, int j) {
    long keys = keys();
    long q = lay.chunk();
    return ctx.device().view(scores, (long) sample * lay.headShard() * q * keys + (long) j * q,
        new long[] {lay.headShard(), q, q}, new long[] {q * keys, keys, 1});
  }

  @Override
  public List<Param> params() {
    return List.of(norm.param(), wq, wk, wv, wo);
  }

  /**
   * The norm's gain over the ranks that see other tokens (as the MoE router's); the projections'
   * shards over the dense group (the CP x DP ranks with the same TP index).
   */
  @Override
  public List<GradGroup> gradGroups() {
    List<GradGroup> groups = new ArrayList<>(2);
    GradGroup.addIfShared(groups, ctx.router(), List.of(norm.param()));
    GradGroup.addIfShared(groups, ctx.dense(), List.of(wq, wk, wv, wo));
    return groups;
  }

  @Override
  public void close() {
    norm.close();
    wq.close();
    wk.close();
    wv.close();
    wo.close();
  }

  private static Saved own(Layer.Saved saved) {
    if (saved instanceof Saved s) {
      return s;
    }
    throw new IllegalArgumentException("not an attention block's forward state: " + saved);
  }
}
