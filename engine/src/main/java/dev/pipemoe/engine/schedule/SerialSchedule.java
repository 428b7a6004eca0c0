package dev.pipemoe.engine.schedule;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.Chunk;
import dev.pipemoe.engine.moe.Chunks;
import dev.pipemoe.engine.moe.ExpertMlp;
import dev.pipemoe.engine.moe.GradAccumulation;
import dev.pipemoe.engine.moe.LayerParams;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.moe.RankContext;
import dev.pipemoe.engine.moe.Views;
import java.util.ArrayList;
import java.util.List;

/**
 * The deepspeed_moe layer without pipe-experts (docs/reference.md §3): every collective waits
 * for the computation before it and blocks the one after. With SP and TP &gt; 1, each column
 * linear gathers its own input, so SwiGLU gathers twice per expert.
 *
 * <pre>
 * forward (L = 2, SP)
 *   EP   |[A---]                                                    [CB--]|
 *   TP   |      [AG0][AG0']      [RS0][AG1][AG1']      [RS1]              |
 *   COMP |                 [E0--]                 [E1--]                  |
 * backward mirrors it: GA, then per expert BAG, B (with its column-linear AG/RS), then GD.
 * </pre>
 */
public final class SerialSchedule implements Schedule {

  @Override
  public String name() {
    return "serial";
  }

  @Override
  public int[] expertRows(LayerShape shape) {
    return Schedule.identityRows(shape);
  }

  @Override
  public Saved forward(RankContext ctx, LayerParams params, Tensor dispatched, Tensor combined) {
    Device d = ctx.device();
    Stream compute = ctx.compute();
    LayerShape shape = ctx.shape();
    Collectives coll = new Collectives(ctx);
    ExpertWork work = new ExpertWork(ctx, params, GradAccumulation.FUSED);
    long ep = shape.expert();
    long local = shape.localExperts();
    long c = shape.capacity();
    long m = shape.hidden();

    List<ExpertMlp.Activations> saved = new ArrayList<>();
    try (Tensor in = Views.reshape(d, dispatched, ep, local, c, m);
        Tensor received = ctx.allocWire(ep, local, c, m); // [EP(src), L, C, M]
        Tensor out = ctx.allocWire(ep, local, c, m);
        Tensor back = Views.reshape(d, combined, ep, local, c, m)) {
      coll.await(compute, coll.allToAll("A", compute, in, received));
      for (Chunk q : Chunks.perExpert(shape)) {
        try (Tensor x = Views.select(d, received, 1, q.expert());
            Tensor y = Views.select(d, out, 1, q.expert())) {
          ExpertWork.Forward f = expert(ctx, coll, work, q, x);
          saved.add(f.act());
          reduce(ctx, coll, q, f.partial(), y);
        }
      }
      coll.await(compute, coll.allToAll("CB", compute, out, back));
    }
    return new ExpertWork.SavedChunks(saved);
  }

  /** Gathers (SP: once per column linear) and runs the expert. */
  private static ExpertWork.Forward expert(RankContext ctx, Collectives coll, ExpertWork work,
      Chunk q, Tensor x) {
    LayerShape shape = ctx.shape();
    Stream compute = ctx.compute();
    if (!shape.sequenceParallel()) {
      return work.forward(q, x, x, x);
    }
    long[] gathered = {shape.tensor() * shape.expert(), q.length(), shape.hidden()};
    try (Tensor g1 = ctx.allocWire(gathered);
        Tensor g3 = shape.swiglu() ? ctx.allocWire(gathered) : null) {
      coll.await(compute, coll.allGather("AG" + q.label(), compute, x, g1));
      if (g3 != null) {
        coll.await(compute, coll.allGather("AG" + q.label(), compute, x, g3));
      }
      return work.forward(q, g1, g3 == null ? g1 : g3, x);
    }
  }

  /** The row-parallel output's TP reduction into y [EP, C, M]: reduce-scatter (SP) or all-reduce. */
  private static void reduce(RankContext ctx, Collectives coll, Chunk q, Tensor partial, Tensor y) {
    Device d = ctx.device();
    Stream compute = ctx.compute();
    try (partial) {
      if (ctx.shape().sequenceParallel()) {
        coll.await(compute, coll.reduceScatter("RS" + q.label(), compute, partial, y));
        return;
      }
      if (ctx.shape().tensorParallel()) {
        coll.await(compute, coll.allReduce("RS" + q.label(), compute, partial));
      }
      ctx.label("E" + q.label());
      d.copy(compute, partial, y);
    }
  }

  @Override
  public void backward(RankContext ctx, LayerParams params, Saved saved, Tensor dCombined,
      Tensor dDispatched) {
    ExpertWork.SavedChunks state = (ExpertWork.SavedChunks) saved;
    Device d = ctx.device();
    Stream compute = ctx.compute();
    LayerShape shape = ctx.shape();
    Collectives coll = new Collectives(ctx);
    ExpertWork work = new ExpertWork(ctx, params, GradAccumulation.FUSED);
    long ep = shape.expert();
    long local = shape.localExperts();
    long c = shape.capacity();
    long m = shape.hidden();

    try (Tensor in = Views.reshape(d, dCombined, ep, local, c, m);
        Tensor dReceived = ctx.allocWire(ep, local, c, m);
        Tensor dOut = ctx.allocWire(ep, local, c, m);
        Tensor back = Views.reshape(d, dDispatched, ep, local, c, m)) {
      coll.await(compute, coll.allToAll("GA", compute, in, dReceived));
      for (Chunk q : Chunks.perExpert(shape)) {
        try (Tensor dy = Views.select(d, dReceived, 1, q.expert());
            Tensor dx = Views.select(d, dOut, 1, q.expert())) {
          if (shape.sequenceParallel()) {
            try (Tensor dGathered = ctx.allocWire(shape.tensor() * ep, c, m)) {
              coll.await(compute, coll.allGather("BAG" + q.label(), compute, dy, dGathered));
              work.backward(q, state.chunks().get(q.index()), dGathered, dx);
            }
          } else {
            work.backward(q, state.chunks().get(q.index()), dy, dx);
          }
        }
      }
      coll.await(compute, coll.allToAll("GD", compute, dOut, back));
    }
  }
}
