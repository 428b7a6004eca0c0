/**
 * The layers a rank's model is built from, behind one {@link dev.pipemoe.engine.model.Layer}
 * interface: forward, backward, parameters and the groups their gradients are summed over. The
 * training step ({@code dev.pipemoe.engine.train.RankModel}) sees nothing else, so a new kind of
 * layer is a new implementation here. Today there is one, {@link
 * dev.pipemoe.engine.model.MoeBlock}, which adapts {@link dev.pipemoe.engine.moe.MoeLayer}.
 */
package dev.pipemoe.engine.model;
