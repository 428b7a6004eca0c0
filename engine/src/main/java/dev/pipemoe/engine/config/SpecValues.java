package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;

import dev.pipemoe.engine.config.JobSpec.FabricSpec;
import dev.pipemoe.engine.config.JobSpec.MindSpeedSpec;
import dev.pipemoe.engine.config.JobSpec.ModelSpec;
import dev.pipemoe.engine.config.JobSpec.ParallelSpec;
import dev.pipemoe.engine.config.JobSpec.PipeExpertsSpec;
import dev.pipemoe.engine.config.JobSpec.ResourcesSpec;
import dev.pipemoe.engine.config.JobSpec.TrainingSpec;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A JobSpec as a map from field to value and back. A section none of whose fields has a value
 * becomes null: the flat forms (argument strings) cannot tell an empty section from an absent one.
 */
final class SpecValues {

  private SpecValues() {}

  /** The fields of {@code spec} that have a value. */
  static Map<SpecField, Object> of(JobSpec spec) {
    Map<SpecField, Object> values = new EnumMap<>(SpecField.class);
    for (SpecField field : SpecField.values()) {
      Object value = field.get(spec);
      if (value != null) {
        values.put(field, value);
      }
    }
    return values;
  }

  /** The spec with exactly these values; the caller guarantees each value has its field's type. */
  static JobSpec build(Map<SpecField, Object> v) {
    return new JobSpec(
        section(v, SpecField.Section.MODEL, () -> new ModelSpec(
            str(v, MOE_MODEL_TYPE), integer(v, NUM_LAYERS), integer(v, HIDDEN_SIZE),
            integer(v, FFN_HIDDEN_SIZE), integer(v, NUM_EXPERTS), integer(v, TOP_K),
            dbl(v, CAPACITY_FACTOR), integer(v, MIN_CAPACITY), bool(v, SWIGLU),
            integer(v, SEQ_LENGTH), integer(v, MICRO_BATCH_SIZE), str(v, DTYPE),
            dbl(v, AUX_LOSS_COEFF), str(v, ARCHITECTURE), integer(v, NUM_ATTENTION_HEADS),
            integer(v, VOCAB_SIZE), str(v, TOKENIZER), integer(v, MAKE_VOCAB_SIZE_DIVISIBLE_BY))),
        section(v, SpecField.Section.PARALLEL, () -> new ParallelSpec(
            integer(v, TENSOR), integer(v, DATA), integer(v, EXPERT), bool(v, SEQUENCE_PARALLEL),
            integer(v, CONTEXT))),
        section(v, SpecField.Section.PIPE_EXPERTS, () -> new PipeExpertsSpec(
            bool(v, ENABLED), bool(v, MULTI_STREAM), integer(v, MULTI_DATA), str(v, FAMILY),
            integer(v, PREFETCH_DEPTH), integer(v, MULTI_DATA_BACKWARD))),
        section(v, SpecField.Section.TRAINING, () -> new TrainingSpec(
            integer(v, STEPS), integer(v, WARMUP_STEPS), (Long) v.get(SEED), dbl(v, LEARNING_RATE),
            integer(v, GLOBAL_BATCH_SIZE), str(v, DATA_PATH), bool(v, USE_DISTRIBUTED_OPTIMIZER))),
        section(v, SpecField.Section.FABRIC, () -> new FabricSpec(
            str(v, PROFILE), dbl(v, BANDWIDTH), dbl(v, LATENCY), dbl(v, CONGESTION), bool(v, SHARED_LINKS),
            dbl(v, COMM_RATIO))),
        section(v, SpecField.Section.RESOURCES, () -> new ResourcesSpec(str(v, DEVICE_TYPE), integer(v, DEVICES))),
        section(v, SpecField.Section.MINDSPEED, () -> new MindSpeedSpec(
            bool(v, ENABLE_ZERO3), bool(v, USE_ASCEND_MC2), bool(v, REUSE_FP32_PARAM),
            str(v, RECOMPUTE_GRANULARITY), integer(v, AMPIPE_DEGREE), bool(v, MOE_NO_DROP),
            bool(v, MOE_DYNAMIC_PADDING), str(v, RECOMPUTE_METHOD), integer(v, RECOMPUTE_NUM_LAYERS))));
  }

  private static <S> S section(Map<SpecField, Object> v, SpecField.Section section, Supplier<S> build) {
    boolean any = v.keySet().stream().anyMatch(f -> f.section == section);
    return any ? build.get() : null;
  }

  private static String str(Map<SpecField, Object> v, SpecField f) {
    return (String) v.get(f);
  }

  private static Integer integer(Map<SpecField, Object> v, SpecField f) {
    return (Integer) v.get(f);
  }

  private static Double dbl(Map<SpecField, Object> v, SpecField f) {
    return (Double) v.get(f);
  }

  private static Boolean bool(Map<SpecField, Object> v, SpecField f) {
    return (Boolean) v.get(f);
  }
}
