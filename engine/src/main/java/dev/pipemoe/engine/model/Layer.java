package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.Tensor;

/**
 * One layer of a rank's model, as the training step sees it: a function of x [S, M] into y [S, M]
 * with its own parameters, and the groups over which their gradients are summed. The step knows no
 * more than this, so a layer of another kind (attention, embeddings, the head) slots in beside the
 * MoE block without touching it.
 *
 * <p>Every method issues its work on the device of the rank it was built for; none synchronizes.
 */
public interface Layer extends Trainable, AutoCloseable {

  /** What backward needs of one forward pass; the caller closes it after backward. */
  interface Saved extends AutoCloseable {
    @Override
    void close();
  }

  /** Forward of x into y (both allocated by the caller); x is kept by reference until backward. */
  Saved forward(Tensor x, Tensor y);

  /** dy into dx (allocated by the caller); accumulates this layer's parameter gradients. */
  void backward(Saved saved, Tensor dy, Tensor dx);

  /**
   * What one pass reported, read back after the device is synchronized; a layer that routes
   * nothing reports zeros.
   */
  default LayerStats stats(Saved saved) {
    return LayerStats.NONE;
  }

  /** Frees the parameters and whatever else the layer holds. */
  @Override
  void close();
}
