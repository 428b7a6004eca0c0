/**
 * One deepspeed_moe layer per rank, SPMD: every rank runs the same code on its own thread and
 * {@link dev.pipemoe.engine.device.Device}.
 *
 * <h2>Notation (used by every shape comment in the engine)</h2>
 *
 * <pre>
 *   S    tokens per rank entering the layer: micro-batch x seq-length, / TP under sequence parallelism
 *   M    hidden size;  F  ffn hidden size of one expert (each TP rank holds F/TP columns)
 *   E    experts;  EP expert-parallel size;  L = E/EP local experts per rank (nle)
 *   k    router top-k (1 or 2);  C  capacity per expert (slots);  D = E*C*M dispatched elements
 *   TP   tensor-parallel size;  DP data-parallel size;  world = TP*DP
 *   N    capacity slices per local expert (multi-data);  n = L*N chunks;  c  slice length
 *   g    expert GEMMs: 2 (GELU MLP) or 3 (SwiGLU)
 * </pre>
 *
 * <h2>Rank layout</h2>
 *
 * rank = d*TP + t (TP innermost). EP groups are cut from the data ranks: rank (d, t) is EP index
 * d % EP of the group of data ranks [EP*(d/EP), EP*(d/EP)+EP) with the same t. Expert e lives on EP
 * index e / L as local expert e % L.
 *
 * <h2>Phases</h2>
 *
 * route, dispatch-pre, dispatch, dispatch-post, experts, combine-pre, combine, combine-post (style
 * guide, Megatron's token dispatcher). Collectives happen only in dispatch and combine, which a
 * {@link dev.pipemoe.engine.schedule.Schedule} owns; everything else is {@link
 * dev.pipemoe.engine.moe.MoeLayer}'s.
 */
package dev.pipemoe.engine.moe;
