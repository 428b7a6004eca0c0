/**
 * The layers a rank's model is built from, behind one {@link dev.pipemoe.engine.model.Layer}
 * interface: forward, backward, parameters and the groups their gradients are summed over. The
 * training step ({@code dev.pipemoe.engine.train.RankModel}) sees nothing else, so a new kind of
 * layer is a new implementation here. The MoE stack is {@link dev.pipemoe.engine.model.MoeBlock}s
 * (adapting {@link dev.pipemoe.engine.moe.MoeLayer}); the whole model, {@link
 * dev.pipemoe.engine.model.GptModel}, adds {@link dev.pipemoe.engine.model.Embedding}, {@link
 * dev.pipemoe.engine.model.AttentionBlock} and {@link dev.pipemoe.engine.model.LmHead}
 * (docs/engine.md, "The whole model").
 */
package dev.pipemoe.engine.model;
