package dev.pipemoe.engine.model;

/**
 * The per-pass readouts a step reports, summed over layers.
 *
 * @param auxLoss the load-balancing loss (already multiplied by its coefficient)
 * @param droppedChoices routing choices dropped for lack of capacity
 */
public record LayerStats(double auxLoss, long droppedChoices) {
  public static final LayerStats NONE = new LayerStats(0, 0);

  public LayerStats plus(LayerStats o) {
    return new LayerStats(auxLoss + o.auxLoss, droppedChoices + o.droppedChoices);
  }
}
