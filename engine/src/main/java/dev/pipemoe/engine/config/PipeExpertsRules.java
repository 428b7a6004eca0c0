package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;

import dev.pipemoe.engine.config.EngineConfig.PipeExperts;
import dev.pipemoe.engine.config.LayoutRules.Layout;

/**
 * Pipe-experts as it will run. MindSpeed's rules in MindSpeed's order, each on the values the rules
 * before it left: V1, V2, V3 (arguments.py, only inside {@code if use_pipe_experts}), then the
 * model type (V11: the flag has no effect on megatron_moe), then V6 (the AMPipe check, later in the
 * same file), then V7 (at run time, on the effective C). Then our options: P-FAMILY and
 * P-N-CAPACITY; and when the feature is not asked for, P-PE-IGNORED for the switches MindSpeed
 * would silently ignore.
 */
final class PipeExpertsRules {

  private PipeExpertsRules() {}

  /** The effective pipe-experts; null when an error leaves it undetermined. */
  static PipeExperts resolve(Inputs in, Layout layout, Findings f) {
    ScheduleFamily family = in.family == null ? Defaults.FAMILY : in.family;
    if (!in.pipeExperts) {
      warnIgnored(in, f);
      return PipeExperts.off(family);
    }
    int n = in.multiData;
    if (n <= 0) {
      f.error(MULTI_DATA, "V1", "pipeExperts.multiData (--pipe-experts-multi-data) must be greater than 0"
          + " with pipe-experts on, was " + n);
    }
    if (in.multiStream && !layout.sequenceParallel()) {
      String why = in.sequenceParallel ? "sequence parallelism is off because parallel.tensor = 1 (P-SP-TP)"
          : "parallel.sequenceParallel is not set";
      f.error(MULTI_STREAM, "V2", "pipeExperts.multiStream (--pipe-experts-multi-stream) can only be used with"
          + " --sequence-parallel, and " + why);
    }
    if (!stillOn(in, n, f)) {
      return PipeExperts.off(family);
    }
    if (n >= 1 && layout.capacity() != null && n > layout.capacity()) {
      f.error(MULTI_DATA, "V7", "pipeExperts.multiData (--pipe-experts-multi-data) " + n + " cannot be greater"
          + " than experts capacity C = " + layout.capacity() + " (S = " + layout.tokens() + ")");
    }
    if (in.family == null || n <= 0) {
      return null;
    }
    return family == ScheduleFamily.MINDSPEED ? mindspeed(in, n, f) : improved(in, n, layout, f);
  }

  /** V3, V11 and V6: the cases where MindSpeed runs without pipe-experts although it was asked for. */
  private static boolean stillOn(Inputs in, int n, Findings f) {
    if (n == 1 && in.numExperts != null && in.expert != null && in.numExperts % in.expert == 0
        && in.numExperts / in.expert == 1) {
      f.warning(ENABLED, "V3", "local experts = model.numExperts " + in.numExperts + " / parallel.expert "
          + in.expert + " = 1 and pipeExperts.multiData = 1 leave nothing to pipeline: pipe-experts is"
          + " switched off (and with it multi-stream); set --pipe-experts-multi-data >= 2 to pipeline data slices");
      f.note("pipe-experts off (V3): one local expert and one data slice; the schedule is serial");
      return false;
    }
    if (in.moeModelType == MoeModelType.MEGATRON_MOE) {
      f.warning(MOE_MODEL_TYPE, "V11", "pipe-experts only takes effect with --moe-model-type deepspeed_moe;"
          + " with megatron_moe MindSpeed accepts --use-pipe-experts and pipelines nothing");
      f.note("pipe-experts off (V11): megatron_moe");
      return false;
    }
    if (n >= 1 && in.ampipeDegree != null && in.ampipeDegree > 1 && n % in.ampipeDegree != 0) {
      f.warning(MULTI_DATA, "V6", "pipeExperts.multiData " + n + " is not divisible by mindspeed.ampipeDegree "
          + in.ampipeDegree + ": MindSpeed switches pipe-experts off (multi-stream off, multi-data 1)");
      f.note("pipe-experts off (V6): multiData " + n + " % ampipeDegree " + in.ampipeDegree + " != 0");
      return false;
    }
    return true;
  }

  /** MindSpeed's schedule has prefetch depth 1 and slices backward like forward. */
  private static PipeExperts mindspeed(Inputs in, int n, Findings f) {
    for (SpecField option : new SpecField[] {PREFETCH_DEPTH, MULTI_DATA_BACKWARD}) {
      if (in.given(option)) {
        f.warning(option, "P-FAMILY", Inputs.describe(option) + " = " + in.raw(option) + " applies to"
            + " the improved family only; family mindspeed ignores it");
      }
    }
    f.note("family mindspeed: prefetch depth 1, n_bwd = N = " + n);
    return new PipeExperts(true, in.multiStream, n, ScheduleFamily.MINDSPEED, 1, n);
  }

  private static PipeExperts improved(Inputs in, int n, Layout layout, Findings f) {
    boolean ok = true;
    int depth = Defaults.PREFETCH_DEPTH;
    if (in.prefetchDepth != null) {
      depth = in.prefetchDepth;
      ok &= atLeastOne(PREFETCH_DEPTH, depth, f);
    }
    int nBwd = n;
    if (in.multiDataBackward != null) {
      nBwd = in.multiDataBackward;
      ok &= atLeastOne(MULTI_DATA_BACKWARD, nBwd, f);
      if (nBwd >= 1 && layout.capacity() != null && nBwd > layout.capacity()) {
        f.error(MULTI_DATA_BACKWARD, "P-N-CAPACITY", "pipeExperts.multiDataBackward (--pipe-experts-multi-data-bwd) "
            + nBwd + " cannot be greater than experts capacity C = " + layout.capacity());
        ok = false;
      }
    }
    f.note("family improved: prefetch depth " + depth + (in.prefetchDepth == null ? " (default)" : "")
        + ", n_bwd = " + nBwd + (in.multiDataBackward == null ? " (= N, not given)" : ""));
    return ok ? new PipeExperts(true, in.multiStream, n, ScheduleFamily.IMPROVED, depth, nBwd) : null;
  }

  private static boolean atLeastOne(SpecField field, int value, Findings f) {
    if (value < 1) {
      f.error(field, "P-RANGE", Inputs.describe(field) + " must be >= 1, was " + value);
      return false;
    }
    return true;
  }

  /** MindSpeed ignores these without a word when --use-pipe-experts is absent; we say so. */
  private static void warnIgnored(Inputs in, Findings f) {
    if (in.multiStream) {
      ignored(MULTI_STREAM, true, f);
    }
    if (in.multiData != 1) {
      ignored(MULTI_DATA, in.multiData, f);
    }
    if (in.family == ScheduleFamily.IMPROVED) {
      ignored(FAMILY, in.raw(FAMILY), f);
    }
    if (in.given(PREFETCH_DEPTH)) {
      ignored(PREFETCH_DEPTH, in.prefetchDepth, f);
    }
    if (in.given(MULTI_DATA_BACKWARD)) {
      ignored(MULTI_DATA_BACKWARD, in.multiDataBackward, f);
    }
  }

  private static void ignored(SpecField field, Object value, Findings f) {
    f.warning(field, "P-PE-IGNORED", Inputs.describe(field) + " = " + value + " is ignored: pipeExperts.enabled"
        + " (--use-pipe-experts) is not set, and MindSpeed ignores it silently; the effective config"
        + " has pipe-experts off");
  }
}
