package dev.pipemoe.engine.train;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.metrics.StepTimes;
import dev.pipemoe.engine.model.GradGroup;
import dev.pipemoe.engine.model.Layer;
import dev.pipemoe.engine.model.LayerStats;
import dev.pipemoe.engine.model.MoeBlock;
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
 * One rank's model, data and training step. The student and the teacher have the same
 * architecture ({@link #layers}); the teacher (other seed, serial schedule) produced the targets
 * once at set-up. The step sees the model only as a stack of {@link Layer}s.
 *
 * <p>Loss: every rank's MSE over its own tokens; the job's loss is the mean over ranks. Gradients
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
  private final List<Tensor> inputs = new ArrayList<>();
  private final List<Tensor> targets = new ArrayList<>();
  private final AdamParams adam;

  RankModel(TrainingPlan plan, Device device) {
    this.plan = plan;
    this.device = device;
    this.ctx = new RankContext(device, plan.shape(), plan.sharedLinks());
    this.adam = AdamParams.of((float) plan.learningRate());
    this.student = layers(plan.seed(), plan.schedule());
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

  /** Inputs and the teacher's targets for every batch; leaves the timeline empty. */
  void prepareData() {
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
    Stream s = ctx.compute();
    long start = device.nowNanos();
    PassResult r = pass(step % plan.batches(), s);
    r.output().close();
    r.inputGrad().close();
    ctx.label("grad-sync");
    for (Layer layer : student) {
      reduceGrads(layer, s);
    }
    ctx.label("optimizer");
    for (Layer layer : student) {
      layer.params().forEach(p -> p.adam(device, s, adam, step + 1));
    }
    device.synchronize();
    long end = device.nowNanos();
    ctx.label(null);
    List<OpRecord> timeline = device.drainTimeline();
    ctx.releaseEvents();
    StepTimes times = StepTimes.of(timeline, start, end, ctx.compute().name(),
        ctx.ep().queue().name(), ctx.tp().queue().name());
    return new RankStep(step, device.rank(), times, r.loss(), r.stats().auxLoss(),
        r.stats().droppedChoices(), start, timeline);
  }

  /**
   * Sums a layer's replicated gradients over their replicas, one in-place all-reduce per parameter,
   * each awaited by the compute stream before Adam reads the gradient.
   */
  private void reduceGrads(Layer layer, Stream s) {
    for (GradGroup group : layer.gradGroups()) {
      for (Param p : group.params()) {
        Event done = ctx.event();
        device.allReduce(s, group.comm(), p.grad(), p.grad(), done);
        device.waitEvent(s, done);
      }
    }
  }

  Probe probe(int batch) {
    Stream s = ctx.compute();
    PassResult r = pass(batch, s);
    Map<String, float[]> grads = new LinkedHashMap<>();
    for (Layer layer : student) {
      for (Param p : layer.params()) {
        grads.put(p.name(), device.readFloats(p.grad()));
      }
    }
    Probe probe = new Probe(device.rank(), r.loss(), device.readFloats(r.output()),
        device.readFloats(r.inputGrad()), grads);
    r.output().close();
    r.inputGrad().close();
    device.drainTimeline();
    ctx.releaseEvents();
    return probe;
  }

  @Override
  public void close() {
    student.forEach(Layer::close);
    inputs.forEach(Tensor::close);
    targets.forEach(Tensor::close);
    ctx.close();
  }
}
