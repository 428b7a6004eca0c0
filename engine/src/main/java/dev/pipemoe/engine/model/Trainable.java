package dev.pipemoe.engine.model;

import dev.pipemoe.engine.moe.Param;
import java.util.List;

/** Something with trainable parameters: a layer, the embeddings, the LM head. */
public interface Trainable {

  /** Every trainable parameter, in a fixed order (zeroed, updated and probed in that order). */
  List<Param> params();

  /**
   * The parameters that other ranks replicate, each group with the communicator over whose ranks
   * its gradients are summed after backward. A parameter no other rank holds is in no group. Every
   * rank must list them in the same order: a communicator matches collectives by issue order.
   */
  List<GradGroup> gradGroups();
}
