package dev.pipemoe.engine.config;

import dev.pipemoe.engine.device.DType;

/**
 * The value a field takes when a spec leaves it out; docs/config.md gives the reason for each.
 * Where MindSpeed or Megatron has a default, ours is the same, so a pasted argument string means
 * what it means there. Shape fields without one are small enough for the 2-core CPU runtime.
 * {@code numExperts} has no default: it is required (docs/reference.md §5).
 */
public final class Defaults {

  private Defaults() {}

  /** MindSpeed's default (V11); the engine refuses it, so specs must say deepspeed_moe. */
  public static final MoeModelType MOE_MODEL_TYPE = MoeModelType.MEGATRON_MOE;
  public static final int NUM_LAYERS = 1;
  public static final int HIDDEN_SIZE = 256;
  public static final int FFN_HIDDEN_SIZE = 512;
  /** Megatron's --moe-router-topk default. */
  public static final int TOP_K = 2;
  /** MindSpeed's --moe-train-capacity-factor default. */
  public static final double CAPACITY_FACTOR = 1.0;
  /** MindSpeed's fixed min_capacity. */
  public static final int MIN_CAPACITY = 4;
  public static final boolean SWIGLU = false;
  public static final int SEQ_LENGTH = 512;
  public static final int MICRO_BATCH_SIZE = 1;
  /** Megatron without --bf16/--fp16 trains in fp32; the CPU runtime computes in fp32 too. */
  public static final DType DTYPE = DType.F32;
  /** MindSpeed's --moe-aux-loss-coeff default: no aux loss. */
  public static final double AUX_LOSS_COEFF = 0.0;

  /** What the engine always ran; a Megatron command (with --num-attention-heads) means gpt. */
  public static final Architecture ARCHITECTURE = Architecture.MOE_STACK;
  /** gpt without vocabSize: byte-level tokens. */
  public static final Tokenizer TOKENIZER = Tokenizer.BYTE;
  /** Megatron's --make-vocab-size-divisible-by default. */
  public static final int MAKE_VOCAB_SIZE_DIVISIBLE_BY = 128;

  public static final int TENSOR = 1;
  /** Megatron's --context-parallel-size default. */
  public static final int CONTEXT = 1;
  public static final int EXPERT = 1;
  public static final boolean SEQUENCE_PARALLEL = false;

  public static final boolean PIPE_EXPERTS = false;
  public static final boolean MULTI_STREAM = false;
  /** MindSpeed's --pipe-experts-multi-data default. */
  public static final int MULTI_DATA = 1;
  public static final ScheduleFamily FAMILY = ScheduleFamily.MINDSPEED;
  /** MindSpeed's one-ahead prefetch. */
  public static final int PREFETCH_DEPTH = 1;

  public static final int STEPS = 20;
  /** Capped at steps - 1 when fewer steps are asked for. */
  public static final int WARMUP_STEPS = 3;
  /** Megatron's --seed default. */
  public static final long SEED = 1234;
  public static final double LEARNING_RATE = 1e-3;
  /** gpt, full granularity: Megatron needs both flags; the only combination that runs. */
  public static final String RECOMPUTE_METHOD = "uniform";
  public static final int RECOMPUTE_NUM_LAYERS = 1;

  public static final FabricProfile FABRIC = FabricProfile.ASCEND_910C;
  public static final DeviceType DEVICE_TYPE = DeviceType.CPU;
}
