package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;

/**
 * The parallel layout and the MoE shape on it: the data size (given, or derived), the world size
 * tensor × context × data (P-WORLD), ep | context·data (P-EP-DATA), ep | E (V8), k &le; E
 * (P-TOPK-E), sequence parallelism at tp = 1 (P-SP-TP), the TP and CP splits (P-TP-FFN, P-SP-SEQ,
 * G3), then S and C from the <em>effective</em> layout.
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

  /**
   * Given, or devices / (tensor × context), or (MindSpeed style) the smallest data size whose
   * context × data ranks hold one expert group; then ep | context × data.
   */
  private static Integer data(Inputs in, Findings f) {
    if (in.context == null) {
      return null;
    }
    int cp = in.context;
    String cpText = cp == 1 ? "" : " x parallel.context " + cp;
    Integer data;
    if (in.data != null) {
      data = in.data;
      if (in.devices != null && in.tensor != null && (long) in.tensor * cp * data != in.devices) {
        f.error(DEVICES, "P-WORLD", "resources.devices (--devices) " + in.devices + " must equal parallel.tensor "
            + in.tensor + cpText + " x parallel.data " + data + " = " + (long) in.tensor * cp * data
            + " (world = tensor x context x data)");
      }
    } else if (in.given(DATA) || in.given(DEVICES) && (in.devices == null || in.tensor == null)) {
      return null;
    } else if (in.devices != null) {
      long split = (long) in.tensor * cp;
      if (in.devices % split != 0) {
        f.error(DEVICES, "P-WORLD", "resources.devices (--devices) " + in.devices + " must be a multiple of"
            + " parallel.tensor " + in.tensor + cpText + " (world = tensor x context x data)");
        return null;
      }
      data = (int) (in.devices / split);
      f.note("parallel.data not given: data = devices / " + (cp == 1 ? "tensor" : "(tensor x context)") + " = "
          + in.devices + " / " + split + " = " + data);
    } else if (in.expert == null) {
      return null;
    } else {
      data = in.expert / gcd(in.expert, cp);
      f.note("parallel.data not given: data = " + (cp == 1 ? "expert = " : "expert / gcd(expert, context) = ")
          + data + " (MindSpeed-style specs carry no data-parallel size; this is the smallest world that holds"
          + " one expert group)");
    }
    if (in.expert != null && (long) cp * data % in.expert != 0) {
      SpecField where = in.given(DATA) ? DATA : DEVICES;
      f.error(where, "P-EP-DATA", "parallel.expert (--expert-model-parallel-size) " + in.expert + " must divide "
          + (cp == 1 ? "parallel.data " + data : "parallel.context " + cp + " x parallel.data " + data + " = "
              + (long) cp * data) + ": expert groups are cut from the data ranks");
    }
    if (in.tensor != null && (long) in.tensor * cp * data > Integer.MAX_VALUE) {
      f.error(in.given(DATA) ? DATA : TENSOR, "P-WORLD", "world size tensor " + in.tensor + cpText.replace(" x parallel.", " x ")
          + " x data " + data + " = " + (long) in.tensor * cp * data + " exceeds " + Integer.MAX_VALUE);
      return null;
    }
    return data;
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
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
    if (in.seqLength == null || in.tensor == null || in.context == null || splits(in, sp)) {
      return;
    }
    if (in.context == 1) {
      f.error(SEQ_LENGTH, "P-SP-SEQ", "model.seqLength (--seq-length) " + in.seqLength + " must be divisible by"
          + " parallel.tensor " + in.tensor + " with sequence parallelism: Megatron scatters the sequence over TP");
    } else {
      long split = MoeShape.sequenceSplit(in.tensor, in.context, sp);
      f.error(SEQ_LENGTH, "G3", "model.seqLength (--seq-length) " + in.seqLength + " must be divisible by"
          + " parallel.context " + in.context + (sp ? " x parallel.tensor " + in.tensor + " (sequence parallel)" : "")
          + " = " + split + ": each CP rank holds one contiguous chunk of every sample"
          + (sp ? ", scattered over its TP ranks" : ""));
    }
  }

  /** Whether s divides into cp chunks, each into tp pieces under SP. */
  private static boolean splits(Inputs in, boolean sp) {
    return in.seqLength % MoeShape.sequenceSplit(in.tensor, in.context, sp) == 0;
  }

  private static Integer tokens(Inputs in, boolean sp, Findings f) {
    if (in.microBatchSize == null || in.seqLength == null || in.tensor == null || in.context == null
        || !splits(in, sp)) {
      return null;
    }
    long tokens = MoeShape.tokensPerRank(in.microBatchSize, in.seqLength, in.tensor, in.context, sp);
    String bs = in.microBatchSize + "·" + in.seqLength;
    String formula;
    if (in.context == 1) {
      formula = sp ? "b·s/tp = " + bs + "/" + in.tensor : "b·s = " + bs;
    } else {
      formula = sp ? "b·s/(cp·tp) = " + bs + "/(" + in.context + "·" + in.tensor + ")" : "b·s/cp = " + bs + "/" + in.context;
    }
    if (tokens > Integer.MAX_VALUE) {
      f.error(SEQ_LENGTH, "P-RANGE", "tokens per rank S = " + formula + " = " + tokens + " exceed " + Integer.MAX_VALUE);
      return null;
    }
    f.note("tokens per rank S = " + formula + " = " + tokens + (sp ? " (sequence parallel)" : "")
        + (in.context == 1 ? "" : " (context parallel)"));
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
