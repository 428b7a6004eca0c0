package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;

import dev.pipemoe.engine.config.EngineConfig.Gpt;
import java.util.List;

/**
 * The whole model (architecture gpt): attention heads (P-REQUIRED, G1, G2), the vocabulary (G7,
 * Megatron's padding), the global batch (G4), context parallelism on the CPU runtime (G5) and
 * recompute (G8, G9); and, for the MoE stack, the fields that mean something only for a GPT (G6).
 * G3 (the sequence over CP) is a layout rule. Megatron's rules are cited in docs/config.md.
 */
final class GptRules {

  /** Fields that only a GPT has; with moe-stack they are ignored (G6), context > 1 refused. */
  private static final List<SpecField> GPT_ONLY = List.of(NUM_ATTENTION_HEADS, VOCAB_SIZE, TOKENIZER,
      MAKE_VOCAB_SIZE_DIVISIBLE_BY, GLOBAL_BATCH_SIZE, DATA_PATH, USE_DISTRIBUTED_OPTIMIZER);

  private GptRules() {}

  /** The gpt section of the effective config; null for moe-stack, or when an error leaves it undetermined. */
  static Gpt resolve(Inputs in, Integer data, Findings f) {
    if (in.architecture == Architecture.MOE_STACK) {
      moeStack(in, f);
      ignoredRecomputeOptions(in, f);
      return null;
    }
    if (in.architecture == null) {
      return null;
    }
    boolean ok = heads(in, f);
    Integer vocab = vocab(in, f);
    Integer microBatches = microBatches(in, data, f);
    boolean recompute = recompute(in, f);
    contextOnCpu(in, f);
    if (!ok || vocab == null || microBatches == null || in.tensor == null || in.makeVocabSizeDivisibleBy == null
        && in.given(MAKE_VOCAB_SIZE_DIVISIBLE_BY)) {
      return null;
    }
    int divisibleBy = in.makeVocabSizeDivisibleBy != null ? in.makeVocabSizeDivisibleBy
        : Defaults.MAKE_VOCAB_SIZE_DIVISIBLE_BY;
    long padded = Gpt.paddedVocab(vocab, divisibleBy, in.tensor);
    if (padded > Integer.MAX_VALUE) {
      f.error(VOCAB_SIZE, "P-RANGE", "the padded vocabulary " + padded + " exceeds " + Integer.MAX_VALUE);
      return null;
    }
    f.note("padded vocabulary = " + vocab + " rounded up to a multiple of makeVocabSizeDivisibleBy x tensor = "
        + divisibleBy + " x " + in.tensor + ": " + padded + " (" + (padded - vocab) + " dummy tokens, Megatron's"
        + " padding)");
    f.note("data: " + (in.dataPath != null ? "the text file " + in.dataPath + " on the worker, read as bytes"
        : "the built-in generated corpus (training.dataPath not given)"));
    return new Gpt(in.numAttentionHeads, Defaults.TOKENIZER, vocab, divisibleBy, (int) padded, in.dataPath,
        in.globalBatchSize != null ? in.globalBatchSize : microBatches * in.microBatchSize * data,
        microBatches, recompute, in.distributedOptimizer);
  }

  private static void moeStack(Inputs in, Findings f) {
    for (SpecField field : GPT_ONLY) {
      if (in.given(field) && !(field == USE_DISTRIBUTED_OPTIMIZER && !in.distributedOptimizer)) {
        f.warning(field, "G6", Inputs.describe(field) + " = " + in.raw(field) + " applies to model.architecture gpt"
            + " only, and the architecture is moe-stack: ignored (set --model-architecture gpt to train a whole model)");
      }
    }
    if (in.context != null && in.context > 1) {
      f.error(CONTEXT, "G6", "parallel.context (--context-parallel-size) " + in.context + " needs"
          + " model.architecture gpt: context parallelism splits attention's sequence, and moe-stack has no"
          + " attention");
    }
  }

  /** P-REQUIRED (Megatron needs --num-attention-heads), G1 heads % tp, G2 hidden % heads. */
  private static boolean heads(Inputs in, Findings f) {
    if (!in.given(NUM_ATTENTION_HEADS)) {
      f.invalid(NUM_ATTENTION_HEADS, "P-REQUIRED", "model.numAttentionHeads (--num-attention-heads) is required"
          + " with model.architecture gpt");
      return false;
    }
    Integer heads = in.numAttentionHeads;
    if (heads == null) {
      return false;
    }
    boolean ok = true;
    if (in.tensor != null && heads % in.tensor != 0) {
      f.error(NUM_ATTENTION_HEADS, "G1", "model.numAttentionHeads (--num-attention-heads) " + heads + " must be"
          + " divisible by parallel.tensor " + in.tensor + ": each TP rank computes whole heads");
      ok = false;
    }
    if (in.hiddenSize != null && in.hiddenSize % heads != 0) {
      f.error(HIDDEN_SIZE, "G2", "model.hiddenSize (--hidden-size) " + in.hiddenSize + " must be divisible by"
          + " model.numAttentionHeads " + heads + ": every head has hiddenSize / heads channels");
      ok = false;
    }
    return ok;
  }

  /** G7: the tokenizer's vocabulary or the given one, which must hold every byte. */
  private static Integer vocab(Inputs in, Findings f) {
    if (in.given(VOCAB_SIZE) && in.given(TOKENIZER)) {
      f.error(VOCAB_SIZE, "G7", "give model.vocabSize (--vocab-size) or model.tokenizer (--tokenizer-type), not"
          + " both: the tokenizer fixes the vocabulary (" + in.raw(TOKENIZER) + ")");
      return null;
    }
    if (in.given(TOKENIZER)) {
      return in.tokenizer == null ? null : in.tokenizer.vocabSize();
    }
    if (!in.given(VOCAB_SIZE)) {
      f.defaulted(TOKENIZER, Defaults.TOKENIZER.jsonName());
      return Defaults.TOKENIZER.vocabSize();
    }
    if (in.vocabSize == null) {
      return null;
    }
    int bytes = Defaults.TOKENIZER.vocabSize();
    if (in.vocabSize < bytes) {
      f.error(VOCAB_SIZE, "G7", "model.vocabSize (--vocab-size) " + in.vocabSize + " must be >= " + bytes
          + ": the data is read as bytes, whose ids go up to " + (bytes - 1));
      return null;
    }
    return in.vocabSize;
  }

  /** G4: GBS divisible by b × DP (Megatron's num-microbatches calculator); default b × DP. */
  private static Integer microBatches(Inputs in, Integer data, Findings f) {
    if (data == null || in.microBatchSize == null || !f.valid(GLOBAL_BATCH_SIZE)) {
      return null;
    }
    long perStep = (long) in.microBatchSize * data;
    if (perStep > Integer.MAX_VALUE) {
      f.error(MICRO_BATCH_SIZE, "P-RANGE", "model.microBatchSize " + in.microBatchSize + " x parallel.data " + data
          + " = " + perStep + " samples per micro-batch step exceed " + Integer.MAX_VALUE);
      return null;
    }
    if (in.globalBatchSize == null) {
      f.note("training.globalBatchSize not given: microBatchSize x data = " + in.microBatchSize + " x " + data
          + " = " + perStep + " (one micro-batch per step)");
      return 1;
    }
    if (in.globalBatchSize % perStep != 0) {
      f.error(GLOBAL_BATCH_SIZE, "G4", "training.globalBatchSize (--global-batch-size) " + in.globalBatchSize
          + " must be divisible by model.microBatchSize " + in.microBatchSize + " x parallel.data " + data + " = "
          + perStep + ": every data rank runs whole micro-batches");
      return null;
    }
    int microBatches = (int) (in.globalBatchSize / perStep);
    f.note("micro-batches per step = globalBatchSize / (microBatchSize x data) = " + in.globalBatchSize + " / "
        + perStep + " = " + microBatches + (microBatches > 1 ? " (gradients accumulate over them)" : ""));
    return microBatches;
  }

  /** G5: the native CPU runtime has no context parallelism; the simulated devices model it. */
  private static void contextOnCpu(Inputs in, Findings f) {
    if (in.context != null && in.context > 1 && in.deviceType == DeviceType.CPU) {
      f.error(CONTEXT, "G5", "parallel.context (--context-parallel-size) " + in.context + " needs a simulated"
          + " device: the native CPU runtime (resources.deviceType cpu) runs no context parallelism; set"
          + " --device-type to an accelerator such as ascend-910c and run on its simulation");
    }
  }

  /**
   * Full granularity with the uniform method and one layer per unit runs (each layer's forward again
   * in its backward). Selective (P-NOT-RUN), block or other layer counts (G8) are warnings, and the
   * effective config recomputes nothing: recompute changes time and memory, not the math.
   */
  private static boolean recompute(Inputs in, Findings f) {
    if (!"full".equals(in.recompute) || !f.valid(RECOMPUTE_GRANULARITY, RECOMPUTE_METHOD, RECOMPUTE_NUM_LAYERS)) {
      if ("selective".equals(in.recompute)) {
        f.warning(RECOMPUTE_GRANULARITY, "P-NOT-RUN", "mindspeed.recomputeGranularity (--recompute-granularity)"
            + " selective is validated but not run (it recomputes parts of attention: time and memory, not"
            + " math); the effective config recomputes nothing");
      }
      ignoredRecomputeOptions(in, f);
      return false;
    }
    String method = in.recomputeMethod != null ? in.recomputeMethod : Defaults.RECOMPUTE_METHOD;
    int layers = in.recomputeNumLayers != null ? in.recomputeNumLayers : Defaults.RECOMPUTE_NUM_LAYERS;
    if (!method.equals(Defaults.RECOMPUTE_METHOD) || layers != Defaults.RECOMPUTE_NUM_LAYERS) {
      SpecField where = method.equals(Defaults.RECOMPUTE_METHOD) ? RECOMPUTE_NUM_LAYERS : RECOMPUTE_METHOD;
      f.warning(where, "G8", "full recompute with --recompute-method " + method + " --recompute-num-layers "
          + layers + " is validated but not run: the engine recomputes uniformly, one layer per unit (time and"
          + " memory, not math); the effective config recomputes nothing");
      f.note("validated but not run, absent from the effective config: recompute full " + method + " " + layers);
      return false;
    }
    if (!in.given(RECOMPUTE_METHOD) || !in.given(RECOMPUTE_NUM_LAYERS)) {
      f.note("recompute full: method uniform, 1 layer per unit" + " (Megatron needs --recompute-method and"
          + " --recompute-num-layers with full granularity; these are the values that run)");
    }
    f.note("recompute full, uniform, 1 layer: each layer's forward runs again in its backward");
    return true;
  }

  /** G9: Megatron reads the method and layer count only with full granularity. */
  private static void ignoredRecomputeOptions(Inputs in, Findings f) {
    if ("full".equals(in.recompute)) {
      return;
    }
    for (SpecField field : new SpecField[] {RECOMPUTE_METHOD, RECOMPUTE_NUM_LAYERS}) {
      if (in.given(field) && f.valid(field)) {
        f.warning(field, "G9", Inputs.describe(field) + " = " + in.raw(field) + " is ignored: it applies to"
            + " mindspeed.recomputeGranularity (--recompute-granularity) full only");
      }
    }
  }
}
