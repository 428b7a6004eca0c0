package dev.pipemoe.engine.config;

import java.util.Map;
import java.util.Set;

/**
 * Megatron and MindSpeed flags that real training commands carry but that do not change what the
 * engine runs (attention variants, data splits, logging, checkpoints, optimiser details, fusions).
 * They are accepted with a warning, so a pasted command works, and are not kept in the spec. Any
 * flag in neither this list nor the spec's own table is an error: silently dropping an unknown
 * flag could hide a setting that matters.
 */
final class MegatronFlags {

  private MegatronFlags() {}

  /** Take one value. */
  static final Set<String> WITH_VALUE = Set.of(
      "--num-query-groups", "--kv-channels", "--max-position-embeddings", "--position-embedding-type",
      "--normalization", "--norm-epsilon", "--vocab-file", "--merge-file", "--tokenizer-model", "--split",
      "--num-workers", "--save", "--load", "--save-interval", "--eval-interval", "--eval-iters", "--log-interval", "--lr-decay-iters", "--lr-decay-style",
      "--lr-warmup-iters", "--lr-warmup-fraction", "--min-lr", "--weight-decay", "--clip-grad", "--adam-beta1",
      "--adam-beta2", "--adam-eps", "--init-method-std", "--attention-dropout", "--hidden-dropout",
      "--distributed-backend", "--context-parallel-algo", "--initial-loss-scale", "--optimizer", "--rotary-base");

  /** Take no value. */
  static final Set<String> SWITCHES = Set.of(
      "--use-flash-attn", "--use-fused-rmsnorm", "--use-fused-swiglu", "--use-fused-rotary-pos-emb",
      "--use-rotary-position-embeddings", "--overlap-grad-reduce", "--overlap-param-gather", "--no-gradient-accumulation-fusion", "--disable-bias-linear",
      "--untie-embeddings-and-output-weights", "--no-masked-softmax-fusion", "--no-bias-gelu-fusion",
      "--no-bias-dropout-fusion", "--no-bias-swiglu-fusion", "--use-legacy-models", "--use-mcore-models",
      "--group-query-attention", "--log-throughput", "--enable-token-rearrange-opt",
      "--use-cp-send-recv-overlap", "--no-load-optim", "--no-load-rng", "--swap-attention",
      "--use-fusion-attn-v2");

  /** Take one value that must be 1: anything else changes what runs, and the engine cannot run it. */
  static final Map<String, String> MUST_BE_ONE = Map.of(
      "--pipeline-model-parallel-size", "the engine runs one pipeline stage",
      "--expert-interval", "the engine makes every layer an MoE layer");

  static boolean known(String flag) {
    return WITH_VALUE.contains(flag) || SWITCHES.contains(flag) || MUST_BE_ONE.containsKey(flag);
  }
}
