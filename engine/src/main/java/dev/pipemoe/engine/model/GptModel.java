package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.RankContext;
import dev.pipemoe.engine.schedule.Schedule;
import java.util.ArrayList;
import java.util.List;

/**
 * One rank's whole model: embeddings, {@code layers} x (attention block, pre-norm MoE block), the
 * final norm and LM head (docs/engine.md, "The whole model"). With recompute (Megatron's full /
 * uniform granularity, one layer per group) a block keeps only its input after forward and reruns
 * its forward inside its backward.
 */
public final class GptModel implements AutoCloseable {
  private final RankContext ctx;
  private final GptLayout lay;
  private final boolean recompute;
  private final Embedding embedding;
  private final List<Layer> blocks = new ArrayList<>();
  private final LmHead head;

  public GptModel(RankContext ctx, GptShape gpt, long seed, int layers, Schedule schedule) {
    this.ctx = ctx;
    this.lay = GptLayout.of(ctx.shape(), gpt, ctx.topology());
    this.recompute = gpt.recompute();
    this.embedding = new Embedding(ctx, lay, seed);
    for (int l = 0; l < layers; l++) {
      blocks.add(new AttentionBlock(ctx, lay, seed, l));
      blocks.add(new MoeBlock(ctx, seed, l, schedule, true));
    }
    this.head = new LmHead(ctx, lay, seed);
  }

  public GptLayout layout() {
    return lay;
  }

  /** The embeddings, the blocks in order, the head: every holder of parameters, in a fixed order. */
  public List<Trainable> parts() {
    List<Trainable> parts = new ArrayList<>();
    parts.add(embedding);
    parts.addAll(blocks);
    parts.add(head);
    return parts;
  }

  /**
   * One micro-batch's forward and backward; the caller closes it after reading what it needs (once
   * the device is synchronized).
   *
   * @param inputs the residual stream: the embeddings' output, then each block's
   * @param saved each block's forward state (from its recompute with recompute on)
   * @param embeddingGrad the gradient of the embeddings' output
   */
  public record Pass(List<Tensor> inputs, List<Layer.Saved> saved, LmHead.Saved head,
      Tensor embeddingGrad) implements AutoCloseable {
    @Override
    public void close() {
      saved.forEach(Layer.Saved::close);
      inputs.forEach(Tensor::close);
      head.close();
      embeddingGrad.close();
    }
  }

  /**
   * Forward and backward of one micro-batch, accumulating every parameter's gradient of {@code
   * scale} times the summed cross-entropy of its tokens.
   */
  public Pass run(MicroBatch batch, float scale) {
    long[] shape = {lay.localTokens(), lay.hidden()};
    List<Tensor> inputs = new ArrayList<>();
    List<Layer.Saved> saved = new ArrayList<>();
    Tensor x = ctx.alloc(shape);
    embedding.forward(batch, x);
    inputs.add(x);
    for (Layer block : blocks) {
      Tensor y = ctx.alloc(shape);
      Layer.Saved s = block.forward(x, y);
      if (recompute) {
        s.close();
        s = null;
      }
      saved.add(s);
      inputs.add(y);
      x = y;
    }
    LmHead.Saved headSaved = head.forward(x, batch);
    Tensor dy = ctx.alloc(shape);
    head.backward(headSaved, batch, scale, dy);
    for (int l = blocks.size() - 1; l >= 0; l--) {
      Layer block = blocks.get(l);
      if (recompute) {
        try (Tensor again = ctx.alloc(shape)) {
          saved.set(l, block.forward(inputs.get(l), again));
        }
      }
      Tensor dx = ctx.alloc(shape);
      block.backward(saved.get(l), dy, dx);
      dy.close();
      dy = dx;
    }
    embedding.backward(batch, dy);
    return new Pass(inputs, saved, headSaved, dy);
  }

  /** The cross-entropy summed over the pass's tokens; after the device is synchronized. */
  public double lossSum(Pass pass) {
    return head.lossSum(pass.head());
  }

  /** Routing stats of the pass's MoE blocks; after the device is synchronized. */
  public LayerStats stats(Pass pass) {
    LayerStats stats = LayerStats.NONE;
    for (int l = 0; l < blocks.size(); l++) {
      stats = stats.plus(blocks.get(l).stats(pass.saved().get(l)));
    }
    return stats;
  }

  @Override
  public void close() {
    embedding.close();
    blocks.forEach(Layer::close);
    head.close();
  }
}
