package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;

/**
 * The parallel layout and the MoE shape on it: the data size (given, or derived), the world size
 * (P-WORLD), ep | data (P-EP-DATA), ep | E (V8), k &le; E (P-TOPK-E), sequence parallelism at tp = 1
 * (P-SP-TP), the TP splits (P-TP-FFN, P-SP-SEQ), then S and C from the <em>effective</em> layout.
 */
final class LayoutRules {

  /** Effective values later rules need; a null number is unknown because of an earlier error. */
  record Layout(Integer data, boolean sequenceParallel, Integer tokens, Integer capacity) {}

  private LayoutRules() {}

  static Layout resolve(Inputs in, Findings f) {
    checkExperts(in, f);
    Integer data = data(in, f);
    boolean sp = sequenceParallel(in, f);
    checkTensorSplits(in, sp, f);
    Integer tokens = tokens(in, sp, f);
    Integer capacity = capacity(in, tokens, f);
    return new Layout(data, sp, tokens, capacity);
  }

  private static void checkExperts(Inputs in, Findings f) {
    if (in.numExperts != null && in.expert != null && in.numExperts % in.expert != 0) {
      f.error(EXPERT, "V8", "model.numExperts " + in.numExperts + " must be divisible by parallel.expert"
          + " (--expert-model-parallel-size) " + in.expert + ": each EP rank holds E/ep experts");
    }
    if (in.numExperts != null && in.topK != null && in.topK > in.numExperts) {
      f.error(TOP_K, "P-TOPK-E", "model.topK (--moe-router-topk) " + in.topK + " must be <= model.numExperts "
          + in.numExperts + ": a token cannot choose more experts than exist");
    }
  }

  /** Given, or devices / tensor, or (MindSpeed style) the expert size; then ep | data. */
  private static Integer data(Inputs in, Findings f) {
    Integer data;
    if (in.data != null) {
      data = in.data;
      if (in.devices != null && in.tensor != null && (long) in.tensor * data != in.devices) {
        f.error(DEVICES, "P-WORLD", "resources.devices (--devices) " + in.devices + " must equal parallel.tensor "
            + in.tensor + " x parallel.data " + data + " = " + (long) in.tensor * data + " (world = tensor x data)");
      }
    } else if (in.given(DATA) || in.given(DEVICES) && (in.devices == null || in.tensor == null)) {
      return null;
    } else if (in.devices != null) {
      if (in.devices % in.tensor != 0) {
        f.error(DEVICES, "P-WORLD", "resources.devices (--devices) " + in.devices + " must be a multiple of"
            + " parallel.tensor " + in.tensor + " (world = tensor x data)");
        return null;
      }
      data = in.devices / in.tensor;
      f.note("parallel.data not given: data = devices / tensor = " + in.devices + " / " + in.tensor + " = " + data);
    } else if (in.expert == null) {
      return null;
    } else {
      data = in.expert;
      f.note("parallel.data not given: data = expert = " + data + " (MindSpeed-style specs carry no"
          + " data-parallel size; this is the smallest world that holds one expert group)");
    }
    if (in.expert != null && data % in.expert != 0) {
      SpecField where = in.given(DATA) ? DATA : DEVICES;
      f.error(where, "P-EP-DATA", "parallel.expert (--expert-model-parallel-size) " + in.expert
          + " must divide parallel.data " + data + ": expert groups are cut from the data ranks");
    }
    if (in.tensor != null && (long) in.tensor * data > Integer.MAX_VALUE) {
      f.error(in.given(DATA) ? DATA : TENSOR, "P-WORLD", "world size tensor " + in.tensor + " x data " + data
          + " = " + (long) in.tensor * data + " exceeds " + Integer.MAX_VALUE);
    }
    return data;
  }

  /** Megatron turns sequence parallelism off at tp = 1 without a word (arguments.py L460-461). */
  private static boolean sequenceParallel(Inputs in, Findings f) {
    if (!in.sequenceParallel || in.tensor == null || in.tensor >= 2) {
      return in.sequenceParallel;
    }
    f.warning(SEQUENCE_PARALLEL, "P-SP-TP", "parallel.sequenceParallel (--sequence-parallel) needs parallel.tensor"
        + " >= 2, was 1: Megatron silently turns sequence parallelism off at tp = 1, and the effective"
        + " config has it off");
    f.note("sequence parallelism off: tensor = 1 (rules after it, such as V2, see it off)");
    return false;
  }

  private static void checkTensorSplits(Inputs in, boolean sp, Findings f) {
    if (in.ffnHiddenSize != null && in.tensor != null && in.ffnHiddenSize % in.tensor != 0) {
      f.error(FFN_HIDDEN_SIZE, "P-TP-FFN", "model.ffnHiddenSize (--ffn-hidden-size) " + in.ffnHiddenSize
          + " must be divisible by parallel.tensor " + in.tensor + ": expert GEMMs split F over TP"
          + " (w1/w3 column-parallel, w2 row-parallel)");
    }
    if (sp && in.seqLength != null && in.tensor != null && in.seqLength % in.tensor != 0) {
      f.error(SEQ_LENGTH, "P-SP-SEQ", "model.seqLength (--seq-length) " + in.seqLength + " must be divisible by"
          + " parallel.tensor " + in.tensor + " with sequence parallelism: Megatron scatters the sequence over TP");
    }
  }

  private static Integer tokens(Inputs in, boolean sp, Findings f) {
    if (in.microBatchSize == null || in.seqLength == null || in.tensor == null || (sp && in.seqLength % in.tensor != 0)) {
      return null;
    }
    long tokens = MoeShape.tokensPerRank(in.microBatchSize, in.seqLength, in.tensor, sp);
    String formula = sp
        ? "b·s/tp = " + in.microBatchSize + "·" + in.seqLength + "/" + in.tensor
        : "b·s = " + in.microBatchSize + "·" + in.seqLength;
    if (tokens > Integer.MAX_VALUE) {
      f.error(SEQ_LENGTH, "P-RANGE", "tokens per rank S = " + formula + " = " + tokens + " exceed " + Integer.MAX_VALUE);
      return null;
    }
    f.note("tokens per rank S = " + formula + " = " + tokens + (sp ? " (sequence parallel)" : ""));
    return (int) tokens;
  }

  private static Integer capacity(Inputs in, Integer tokens, Findings f) {
    if (tokens == null || in.numExperts == null || in.topK == null || in.capacityFactor == null || in.minCapacity == null) {
      return null;
    }
    long capacity = MoeShape.capacity(tokens, in.numExperts, in.topK, in.capacityFactor, in.minCapacity);
    f.note("capacity C = min(S, max(minCapacity, ceil(S/E · k·f))) = min(" + tokens + ", max(" + in.minCapacity
        + ", ceil(" + tokens + "/" + in.numExperts + " · " + in.topK + "·" + in.capacityFactor + "))) = " + capacity);
    return (int) capacity;
  }
}
