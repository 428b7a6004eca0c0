package dev.pipemoe.engine.train;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.metrics.StepTimes;
import dev.pipemoe.engine.model.GptLayout;
import dev.pipemoe.engine.model.GptModel;
import dev.pipemoe.engine.model.GptShape;
import dev.pipemoe.engine.model.GradGroup;
import dev.pipemoe.engine.model.Layer;
import dev.pipemoe.engine.model.LayerStats;
import dev.pipemoe.engine.model.MicroBatch;
import dev.pipemoe.engine.model.MoeBlock;
import dev.pipemoe.engine.model.Trainable;
import dev.pipemoe.engine.moe.HostRandom;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.moe.Param;
import dev.pipemoe.engine.moe.RankContext;
import dev.pipemoe.engine.moe.Topology;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.schedule.SerialSchedule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One rank's model, data and training step, of one of two architectures.
 *
 * <p>The whole model ({@code plan.gpt()} set, {@link GptModel}): each step runs the plan's
 * micro-batches of tokens (those of this rank's DP index; CP and TP ranks of one DP index see the
 * same samples), accumulating the gradients of the mean cross-entropy over the global batch's
 * tokens; then the DP gradient reduction and Adam ({@link #update}). A rank's loss is the mean over
 * its own tokens; with equal token counts the mean over ranks is the global mean.
 *
 * <p>The MoE stack alone: the student and the teacher have the same architecture ({@link
 * #layers}); the teacher (other seed, serial schedule) produced the targets once at set-up. The
 * step sees the model only as a stack of {@link Layer}s.
 *
 * <p>The MoE stack's loss: every rank's MSE over its own tokens; the job's loss is the mean over ranks. Gradients
 * are scaled so that summing them over the ranks that replicate a parameter gives the gradient of
 * that mean: 1/world under SP (every rank sees distinct tokens), 1/DP without it (TP ranks see the
 * same tokens).
 */
final class RankModel implements AutoCloseable {
  private static final long TEACHER = 0x7eac4e5L;

  private final TrainingPlan plan;
  private final Device device;
  private final RankContext ctx;
  private final List<Layer> student;
  /** The whole model, or null for the MoE stack alone (then {@link #student} holds its layers). */
  private final GptModel gpt;
  private final List<Tensor> inputs = new ArrayList<>();
  private final List<Tensor> targets = new ArrayList<>();
  private final AdamParams adam;

  RankModel(TrainingPlan plan, Device device) {
    this.plan = plan;
    this.device = device;
    this.adam = AdamParams.of((float) plan.learningRate());
    if (plan.gpt() == null) {
      this.ctx = new RankContext(device, plan.shape(), plan.sharedLinks());
      this.student = layers(plan.seed(), plan.schedule());
      this.gpt = null;
    } else {
      this.ctx = new RankContext(device, plan.shape(), plan.sharedLinks(),
          plan.gpt().contextParallel(), true);
      this.student = List.of();
      this.gpt = new GptModel(ctx, plan.gpt(), plan.seed(), plan.layers(), plan.schedule());
    }
  }

  /** The model's architecture, for the student and the teacher alike: MoE blocks, one per layer. */
  private List<Layer> layers(long seed, Schedule schedule) {
    List<Layer> layers = new ArrayList<>();
    for (int l = 0; l < plan.layers(); l++) {
      layers.add(new MoeBlock(ctx, seed, l, schedule));
    }
    return layers;
  }

  RankContext context() {
    return ctx;
  }

  /**
   * Inputs and the teacher's targets for every batch; leaves the timeline empty. The whole model
   * reads its tokens step by step.
   */
  void prepareData() {
    if (gpt != null) {
      return;
    }
    LayerShape shape = plan.shape();
    Topology topo = ctx.topology();
    List<Layer> teacher = layers(plan.seed() ^ TEACHER, new SerialSchedule());
    // a data rank's micro-batch has S*TP tokens under SP, of which TP rank t holds block t
    long m = shape.hidden();
    long s = shape.tokens();
    long r0 = shape.sequenceParallel() ? topo.tpIndex() * s : 0;
    for (int b = 0; b < plan.batches(); b++) {
      int batch = b;
      Tensor x = device.alloc(DType.F32, s, m);
      device.write(x, () -> HostRandom.normalBlock(
          HostRandom.key(plan.seed(), "input", batch, topo.dataIndex()), m, r0, r0 + s, 0, m, 1.0));
      inputs.add(x);
      if (!device.holdsValues()) {
        targets.add(device.alloc(DType.F32, s, m));  // targets are values: nothing to compute
        continue;
      }
      Forward f = forward(teacher, x);
      targets.add(f.output());
      f.closeActivations();
    }
    device.synchronize();
    device.drainTimeline();
    ctx.releaseEvents();
    teacher.forEach(Layer::close);
  }

  /** A forward pass through a stack of layers, keeping what backward needs. */
  record Forward(Tensor output, List<Tensor> layerOutputs, List<Layer.Saved> saved) {
    void closeActivations() {
      saved.forEach(Layer.Saved::close);
      for (int i = 0; i < layerOutputs.size() - 1; i++) {
        layerOutputs.get(i).close();
      }
    }
  }

  private Forward forward(List<Layer> layers, Tensor x) {
    List<Tensor> outs = new ArrayList<>();
    List<Layer.Saved> saved = new ArrayList<>();
    Tensor in = x;
    for (Layer layer : layers) {
      Tensor y = device.alloc(DType.F32, x.shape());
      saved.add(layer.forward(in, y));
      outs.add(y);
      in = y;
    }
    return new Forward(in, outs, saved);
  }

  /** What one forward and backward pass produced, read back to the host. */
  record PassResult(double loss, LayerStats stats, Tensor output, Tensor inputGrad) {}

  /** Zeroes gradients, runs forward and backward on batch b; leaves gradients in the params. */
  private PassResult pass(int batch, Stream s) {
    for (Layer layer : student) {
      layer.params().forEach(p -> p.zeroGrad(device, s));
    }
    LayerShape shape = plan.shape();
    float gradScale = (float) (1.0 / (shape.sequenceParallel() ? shape.worldSize()
        : shape.data()));
    Forward f = forward(student, inputs.get(batch));
    Tensor loss = device.alloc(DType.F32, 1);
    Tensor dy = device.alloc(DType.F32, f.output().shape());
    ctx.label("loss");
    device.mseLoss(s, f.output(), targets.get(batch), gradScale, loss, dy);
    for (int l = student.size() - 1; l >= 0; l--) {
      Tensor dx = device.alloc(DType.F32, dy.shape());
      student.get(l).backward(f.saved().get(l), dy, dx);
      dy.close();
      dy = dx;
    }
    device.synchronize();
    LayerStats stats = LayerStats.NONE;
    for (int l = 0; l < student.size(); l++) {
      stats = stats.plus(student.get(l).stats(f.saved().get(l)));
    }
    double lossValue = device.readFloats(loss)[0];
    loss.close();
    f.closeActivations();
    return new PassResult(lossValue, stats, f.output(), dy);
  }

  /** One training step: forward, backward, gradient reduction, Adam. */
  RankStep step(int step) {
    if (gpt != null) {
      return wholeModelStep(step);
    }
    Stream s = ctx.compute();
    long start = device.nowNanos();
    PassResult r = pass(step % plan.batches(), s);
    r.output().close();
    r.inputGrad().close();
    update(student, step);
    return finish(step, start, r.loss(), r.stats());
  }

  /** Synchronizes the step and accounts for it. */
  private RankStep finish(int step, long start, double loss, LayerStats stats) {
    device.synchronize();
    long end = device.nowNanos();
    ctx.label(null);
    List<OpRecord> timeline = device.drainTimeline();
    ctx.releaseEvents();
    StepTimes times = StepTimes.of(timeline, start, end, ctx.compute().name(),
        ctx.ep().queue().name(), ctx.tp().queue().name());
    return new RankStep(step, device.rank(), times, loss, stats.auxLoss(),
        stats.droppedChoices(), start, timeline);
  }

  /** What the whole model's micro-batches of one step produced, read back to the host. */
  private record WholePass(double loss, LayerStats stats, float[] logits, float[] embeddingGrad) {}

  /**
   * Zeroes gradients, then forward and backward of every micro-batch of {@code step}, accumulating
   * the gradients of the mean cross-entropy over the global batch's tokens; synchronizes and reads
   * the loss (this rank's mean over its tokens), the stats and, when asked, the last micro-batch's
   * logits and embedding-output gradient.
   */
  private WholePass wholePass(int step, boolean readBack) {
    Stream s = ctx.compute();
    for (Trainable part : gpt.parts()) {
      part.params().forEach(p -> p.zeroGrad(device, s));
    }
    GptShape shape = plan.gpt();
    GptLayout lay = gpt.layout();
    Topology topo = ctx.topology();
    int dataRanks = plan.shape().data() / shape.contextParallel();
    long globalTokens = (long) dataRanks * shape.microBatches() * shape.microBatchSize()
        * shape.seqLength();
    float scale = (float) (1.0 / globalTokens);
    List<MicroBatch> batches = new ArrayList<>();
    List<GptModel.Pass> passes = new ArrayList<>();
    for (int mb = 0; mb < shape.microBatches(); mb++) {
      int[] seqs = plan.tokens().sequences(step, mb, topo.dpIndex(), dataRanks,
          shape.microBatchSize(), shape.seqLength() + 1);
      MicroBatch batch = MicroBatch.of(device, lay, seqs);
      batches.add(batch);
      passes.add(gpt.run(batch, scale));
    }
    device.synchronize();
    double lossSum = 0;
    LayerStats stats = LayerStats.NONE;
    for (GptModel.Pass pass : passes) {
      lossSum += gpt.lossSum(pass);
      stats = stats.plus(gpt.stats(pass));
    }
    GptModel.Pass last = passes.get(passes.size() - 1);
    float[] logits = readBack ? device.readFloats(last.head().logits()) : null;
    float[] embeddingGrad = readBack ? device.readFloats(last.embeddingGrad()) : null;
    passes.forEach(GptModel.Pass::close);
    batches.forEach(MicroBatch::close);
    double tokens = (double) shape.microBatches() * lay.chunkTokens();
    return new WholePass(lossSum / tokens, stats, logits, embeddingGrad);
  }

  private RankStep wholeModelStep(int step) {
    long start = device.nowNanos();
    WholePass r = wholePass(step, false);
    update(gpt.parts(), step);
    return finish(step, start, r.loss(), r.stats());
  }

  /**
   * The DP gradient reduction and Adam. Without a distributed optimizer: one in-place all-reduce
   * per replicated gradient, then Adam on every parameter. With one: each replicated parameter
   * whose size its group divides is reduce-scattered over the group, Adam updates this rank's
   * shard of it, and the updated shards are all-gathered; the others fall back to all-reduce and a
   * whole update.
   */
  private void update(List<? extends Trainable> parts, int step) {
    Stream s = ctx.compute();
    boolean distributed = plan.gpt() != null && plan.gpt().distributedOptimizer();
    if (!distributed) {
      ctx.label("grad-sync");
      parts.forEach(part -> reduceGrads(part, s));
      ctx.label("optimizer");
      for (Trainable part : parts) {
        part.params().forEach(p -> p.adam(device, s, adam, step + 1));
      }
      return;
    }
    record Shard(Param param, Communicator comm, Tensor grad, long from, long to) {}
    Map<Param, Shard> shards = new LinkedHashMap<>();
    ctx.label("grad-sync");
    for (Trainable part : parts) {
      for (GradGroup group : part.gradGroups()) {
        int size = group.comm().size();
        for (Param p : group.params()) {
          Event done = ctx.event();
          if (p.numel() % size != 0) {
            device.allReduce(s, group.comm(), p.grad(), p.grad(), done);
          } else {
            long n = p.numel() / size;
            long from = group.comm().index() * n;
            Tensor shardGrad = device.alloc(DType.F32, n);
            try (Tensor flat = Param.flatSlice(device, p.grad(), 0, p.numel())) {
              device.reduceScatter(s, group.comm(), flat, shardGrad, done);
            }
            shards.put(p, new Shard(p, group.comm(), shardGrad, from, from + n));
          }
          device.waitEvent(s, done);
        }
      }
    }
    ctx.label("optimizer");
    for (Trainable part : parts) {
      for (Param p : part.params()) {
        Shard sh = shards.get(p);
        if (sh == null) {
          p.adam(device, s, adam, step + 1);
        } else {
          p.adamShard(device, s, adam, step + 1, sh.from(), sh.to(), sh.grad());
        }
      }
    }
    ctx.label("grad-sync");
    for (Shard sh : shards.values()) {
      Event done = ctx.event();
      try (Tensor updated = Param.flatSlice(device, sh.param().value(), sh.from(), sh.to());
          Tensor mine = device.alloc(DType.F32, sh.to() - sh.from());
          Tensor whole = Param.flatSlice(device, sh.param().value(), 0, sh.param().numel())) {
        device.copy(s, updated, mine);
        device.allGather(s, sh.comm(), mine, whole, done);
      }
      device.waitEvent(s, done);
      sh.grad().close();
    }
  }

  /**
   * Sums a layer's replicated gradients over their replicas, one in-place all-reduce per parameter,
   * each awaited by the compute stream before Adam reads the gradient.
   */
  private void reduceGrads(Trainable part, Stream s) {
    for (GradGroup group : part.gradGroups()) {
      for (Param p : group.params()) {
        Event done = ctx.event();
        device.allReduce(s, group.comm(), p.grad(), p.grad(), done);
        device.waitEvent(s, done);
      }
    }
  }

  /**
   * One forward and backward pass (the whole model: step 0's micro-batches), read back; with
   * {@code reduced} the gradients are summed over their replicas first, as the step does before
   * Adam.
   */
  Probe probe(int batch, boolean reduced) {
    if (gpt != null) {
      WholePass r = wholePass(batch, true);
      if (reduced) {
        ctx.label("grad-sync");
        gpt.parts().forEach(part -> reduceGrads(part, ctx.compute()));
        device.synchronize();
      }
      Probe probe = new Probe(device.rank(), r.loss(), r.logits(), r.embeddingGrad(),
          gradients(gpt.parts()));
      device.drainTimeline();
      ctx.releaseEvents();
      return probe;
    }
    Stream s = ctx.compute();
    PassResult r = pass(batch, s);
    if (reduced) {
      student.forEach(layer -> reduceGrads(layer, s));
      device.synchronize();
    }
    Map<String, float[]> grads = gradients(student);
    Probe probe = new Probe(device.rank(), r.loss(), device.readFloats(r.output()),
        device.readFloats(r.inputGrad()), grads);
    r.output().close();
    r.inputGrad().close();
    device.drainTimeline();
    ctx.releaseEvents();
    return probe;
  }

  private Map<String, float[]> gradients(List<? extends Trainable> parts) {
    Map<String, float[]> grads = new LinkedHashMap<>();
    for (Trainable part : parts) {
      for (Param p : part.params()) {
        grads.put(p.name(), device.readFloats(p.grad()));
      }
    }
    return grads;
  }

  /** Every parameter's values, by name (after synchronizing). */
  Map<String, float[]> parameters() {
    device.synchronize();
    Map<String, float[]> values = new LinkedHashMap<>();
    for (Trainable part : gpt != null ? gpt.parts() : student) {
      for (Param p : part.params()) {
        values.put(p.name(), device.readFloats(p.value()));
      }
    }
    return values;
  }

  /** Applies {@code edit} to every parameter of this rank (for finite-difference checks). */
  void edit(Trainer.ParamEdit edit) {
    device.synchronize();
    for (Trainable part : gpt != null ? gpt.parts() : student) {
      for (Param p : part.params()) {
        edit.apply(device, p);
      }
    }
  }

  @Override
  public void close() {
    if (gpt != null) {
      gpt.close();
    }
    student.forEach(Layer::close);
    inputs.forEach(Tensor::close);
    targets.forEach(Tensor::close);
    ctx.close();
  }
}
