package dev.pipemoe.engine.contract;

import dev.pipemoe.engine.config.MoeShape;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.model.GptShape;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.schedule.SerialSchedule;
import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.SplittableRandom;

/**
 * A small whole model (GPT with MoE layers) and its layout, for the whole-model tests: hidden 16,
 * 4 heads, vocabulary 32 (padded to TP), FFN 32 per expert, capacity factor 2 (no drops).
 */
public record WholeModelCase(int tp, int cp, int dp, int ep, boolean sp, int experts, int topK,
    int seq, int microBatchSize, int microBatches, int layers, boolean recompute,
    boolean distributedOptimizer, boolean swiglu, double auxLossCoeff, Schedule schedule) {
  public static final int HIDDEN = 16;
  public static final int HEADS = 4;
  public static final int VOCAB = 32;

  /** TP 1, one rank, two layers of four experts, top-2: the plainest whole model. */
  public static WholeModelCase tiny() {
    return new WholeModelCase(1, 1, 1, 1, false, 4, 2, 8, 2, 1, 2, false, false, true, 0.0,
        new SerialSchedule());
  }

  public int world() {
    return tp * cp * dp;
  }

  public LayerShape shape() {
    int tokens = microBatchSize * seq / cp / (sp ? tp : 1);
    int capacity = (int) MoeShape.capacity(tokens, experts, topK, 2.0, 4);
    return new LayerShape(tokens, HIDDEN, 2 * HIDDEN, experts, topK, capacity, tp, cp * dp, ep,
        sp, swiglu, DType.F32, auxLossCoeff);
  }

  public GptShape gpt() {
    return new GptShape(VOCAB, HEADS, seq, microBatchSize, microBatches, cp, recompute,
        distributedOptimizer);
  }

  public TrainingPlan plan(int steps, double learningRate, boolean patternTokens) {
    return new TrainingPlan(shape(), layers, schedule, steps, 0, 11, learningRate, true, 1, gpt(),
        new TestTokens(VOCAB, 23, patternTokens));
  }

  public TrainingPlan plan() {
    return plan(1, 1e-3, false);
  }

  public WholeModelCase with(Schedule other) {
    return new WholeModelCase(tp, cp, dp, ep, sp, experts, topK, seq, microBatchSize,
        microBatches, layers, recompute, distributedOptimizer, swiglu, auxLossCoeff, other);
  }

  public WholeModelCase withRecompute(boolean on) {
    return new WholeModelCase(tp, cp, dp, ep, sp, experts, topK, seq, microBatchSize,
        microBatches, layers, on, distributedOptimizer, swiglu, auxLossCoeff, schedule);
  }

  public WholeModelCase withDistributedOptimizer(boolean on) {
    return new WholeModelCase(tp, cp, dp, ep, sp, experts, topK, seq, microBatchSize,
        microBatches, layers, recompute, on, swiglu, auxLossCoeff, schedule);
  }

  public WholeModelCase withLayout(int tp, int cp, int dp, int ep, boolean sp) {
    return new WholeModelCase(tp, cp, dp, ep, sp, experts, topK, seq, microBatchSize,
        microBatches, layers, recompute, distributedOptimizer, swiglu, auxLossCoeff, schedule);
  }

  /**
   * A random small layout: TP 1-2 (SP or not), EP 1-2 dividing the data ranks, DP 1-2, CP 1-2
   * when {@code contextParallel}, at most 8 ranks; sequence 8 or 16, 1-2 samples, 1-2
   * micro-batches.
   */
  public static WholeModelCase random(SplittableRandom r, boolean contextParallel) {
    int tp = Gen.oneOf(r, 1, 2);
    int cp = contextParallel ? Gen.oneOf(r, 1, 2) : 1;
    int dp = tp * cp >= 4 ? 1 : Gen.oneOf(r, 1, 2);
    int data = cp * dp;
    int ep = data % 2 == 0 ? Gen.oneOf(r, 1, 2) : 1;
    boolean sp = tp > 1 && r.nextBoolean();
    int experts = ep * Gen.intIn(r, 1, 2);
    int topK = experts == 1 ? 1 : Gen.oneOf(r, 1, 2);
    return new WholeModelCase(tp, cp, dp, ep, sp, experts, topK, Gen.oneOf(r, 8, 16),
        Gen.intIn(r, 1, 2), Gen.intIn(r, 1, 2), Gen.intIn(r, 1, 2), r.nextBoolean(), false,
        r.nextBoolean(), Gen.oneOf(r, 0.0, 0.01), new SerialSchedule());
  }
}
