package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;

import dev.pipemoe.engine.device.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * What the engine can run, and the MindSpeed features it validates without running: the model type
 * (P-MODEL-TYPE), the dtype (P-FP16, P-REUSE-BF16), V4, V5, V10, no-drop (P-UNSUPPORTED: it changes
 * the tokens computed) and the knobs that change speed or memory but not the math (P-NOT-RUN: a
 * warning, and the effective config runs without them). Recompute of a gpt is {@link GptRules}'.
 */
final class FeatureRules {

  private FeatureRules() {}

  static void check(Inputs in, Findings f) {
    modelType(in, f);
    dtype(in, f);
    combinations(in, f);
    notRun(in, f);
  }

  private static void modelType(Inputs in, Findings f) {
    if (in.moeModelType != MoeModelType.MEGATRON_MOE) {
      return;
    }
    String what = in.given(MOE_MODEL_TYPE) ? "model.moeModelType is megatron_moe"
        : "model.moeModelType not given, and MindSpeed's default is megatron_moe";
    f.error(MOE_MODEL_TYPE, "P-MODEL-TYPE", what + ", but the engine runs only deepspeed_moe layers, the"
        + " ones pipe-experts works on; set --moe-model-type deepspeed_moe");
  }

  private static void dtype(Inputs in, Findings f) {
    if (in.fp16) {
      String megatron = in.expert != null && in.expert > 1
          ? "; Megatron also refuses fp16 with expert parallelism, and parallel.expert = " + in.expert : "";
      f.error(DTYPE, "--fp16", "P-FP16", "model.dtype fp16 (--fp16): the engine runs fp32 or bf16 only" + megatron);
    }
    boolean knownNotBf16 = in.fp16 || (in.dtype != null && in.dtype != DType.BF16);
    if (in.reuseFp32Param && knownNotBf16) {
      f.error(REUSE_FP32_PARAM, "P-REUSE-BF16", "mindspeed.reuseFp32Param (--reuse-fp32-param) only supports bf16,"
          + " and model.dtype is " + (in.fp16 ? "fp16" : "fp32"));
    }
  }

  private static void combinations(Inputs in, Findings f) {
    if (in.zero3) {
      List<String> with = new ArrayList<>();
      if (in.mc2) {
        with.add("--use-ascend-mc2");
      }
      if (in.reuseFp32Param) {
        with.add("--reuse-fp32-param");
      }
      if (in.recompute != null) {
        with.add("--recompute-granularity " + in.recompute);
      }
      if (in.pipeExperts) {
        with.add("--use-pipe-experts");
      }
      if (!with.isEmpty()) {
        f.error(ENABLE_ZERO3, "V4", "zero3 (--enable-zero3) cannot be used together with MC2, parameter copy"
            + " reuse, recompute and pipe-experts; given with " + String.join(", ", with));
      }
    }
    if (in.mc2 && in.pipeExperts) {
      f.error(USE_ASCEND_MC2, "V5", "mc2 (--use-ascend-mc2) is not compatible with --use-pipe-experts");
    }
    if (in.dynamicPadding && !in.noDrop) {
      f.error(MOE_DYNAMIC_PADDING, "V10", "mindspeed.moeDynamicPadding (--moe-dynamic-padding) needs"
          + " mindspeed.moeNoDrop (--moe-no-drop)");
    }
    if (in.noDrop) {
      f.error(MOE_NO_DROP, "P-UNSUPPORTED", "mindspeed.moeNoDrop (--moe-no-drop)"
          + (in.dynamicPadding ? " with --moe-dynamic-padding" : "") + " is not run by the engine: it makes C"
          + " the largest expert load of each step, which changes the tokens computed; the engine runs the"
          + " capacity-bounded gate of docs/reference.md §2");
    }
  }

  private static void notRun(Inputs in, Findings f) {
    List<String> dropped = new ArrayList<>();
    if (in.zero3) {
      notRun(in, ENABLE_ZERO3, "ZeRO-3 shards parameters and gathers them per use: memory and traffic, not math", f);
      dropped.add("zero3");
    }
    if (in.mc2) {
      notRun(in, USE_ASCEND_MC2, "MC2 fuses a TP matmul with its collective into one kernel: speed, not math", f);
      dropped.add("mc2");
    }
    if (in.reuseFp32Param) {
      notRun(in, REUSE_FP32_PARAM, "it shares fp32 parameter storage with the bf16 copy: memory, not math", f);
      dropped.add("reuse-fp32-param");
    }
    if (in.recompute != null && f.valid(RECOMPUTE_GRANULARITY) && in.architecture == Architecture.MOE_STACK) {
      notRun(in, RECOMPUTE_GRANULARITY, "recomputation reruns the forward before the backward: time and"
          + " memory, not math; it runs with model.architecture gpt", f);
      dropped.add("recompute " + in.recompute);
    }
    if (in.ampipeDegree != null && in.ampipeDegree > 1) {
      notRun(in, AMPIPE_DEGREE, "AMPipe slices attention, which the engine does not model", f);
      dropped.add("ampipe " + in.ampipeDegree);
    }
    if (!dropped.isEmpty()) {
      f.note("validated but not run, absent from the effective config: " + String.join(", ", dropped));
    }
  }

  private static void notRun(Inputs in, SpecField field, String why, Findings f) {
    f.warning(field, "P-NOT-RUN", Inputs.describe(field) + " = " + in.raw(field) + " is validated but not run ("
        + why + "); the effective config runs without it");
  }
}
