package dev.pipemoe.engine.model;

import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.moe.Topology;

/**
 * The sizes one rank of the whole model works with, from the MoE layer's shape, the GPT's shape and
 * the rank's place. A rank holds, of each of its data rank's micro-batch, the {@code mbs} samples'
 * CP chunk c of {@code chunk} positions: {@code chunkTokens} rows (sample-major), of which it keeps
 * block t of {@code localTokens} under SP (all of them without SP).
 *
 * @param headShard H/TP heads on this rank
 * @param headDim M/H
 * @param chunk seq/CP positions per sample on this rank
 * @param chunkTokens mbs x chunk, the rows attention and the LM head work on
 * @param localTokens the rows of the residual stream on this rank (chunkTokens / TP under SP)
 * @param vocabShard V/TP, the rows of the vocabulary this rank holds, from {@code vocabFirst}
 */
public record GptLayout(int hidden, int heads, int headShard, int headDim, int seqLength,
    int microBatchSize, int chunk, int chunkTokens, int localTokens, int vocab, int vocabShard,
    int vocabFirst, int tensor, int tpIndex, int context, int cpIndex, boolean sequenceParallel) {

  public static GptLayout of(LayerShape shape, GptShape gpt, Topology topo) {
    int tp = shape.tensor();
    int m = shape.hidden();
    int cp = gpt.contextParallel();
    require(topo.context() == cp, "the topology's CP %d is not the model's %d", topo.context(), cp);
    require(gpt.heads() % tp == 0, "TP=%d must divide the %d attention heads", tp, gpt.heads());
    require(m % gpt.heads() == 0, "the %d heads must divide the hidden size %d", gpt.heads(), m);
    require(gpt.vocabSize() % tp == 0, "TP=%d must divide the padded vocabulary %d", tp,
        gpt.vocabSize());
    require(gpt.seqLength() % cp == 0, "CP=%d must divide the sequence length %d", cp,
        gpt.seqLength());
    int chunk = gpt.seqLength() / cp;
    int chunkTokens = gpt.microBatchSize() * chunk;
    require(!shape.sequenceParallel() || chunkTokens % tp == 0,
        "under SP, TP=%d must divide a rank's %d tokens (micro-batch x seq / CP)", tp, chunkTokens);
    int local = shape.sequenceParallel() ? chunkTokens / tp : chunkTokens;
    require(shape.tokens() == local,
        "the MoE layer's tokens per rank S=%d must be micro-batch x seq / CP%s = %d",
        shape.tokens(), shape.sequenceParallel() ? " / TP" : "", local);
    int vt = gpt.vocabSize() / tp;
    return new GptLayout(m, gpt.heads(), gpt.heads() / tp, m / gpt.heads(), gpt.seqLength(),
        gpt.microBatchSize(), chunk, chunkTokens, local, gpt.vocabSize(), vt,
        topo.tpIndex() * vt, tp, topo.tpIndex(), cp, topo.cpIndex(), shape.sequenceParallel());
  }

  /** M/TP: the columns of Q, K, V and attention output this rank holds (its heads). */
  public int hiddenShard() {
    return headShard * headDim;
  }

  /** The first of this rank's rows within its chunk's rows (block t under SP). */
  public int localFirst() {
    return sequenceParallel ? tpIndex * localTokens : 0;
  }

  /** The position in the sequence of this rank's chunk's first token. */
  public int chunkFirst() {
    return cpIndex * chunk;
  }

  private static void require(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }
}
