package dev.pipemoe.engine.schedule;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.Chunk;
import dev.pipemoe.engine.moe.Chunks;
import dev.pipemoe.engine.moe.ExpertMlp;
import dev.pipemoe.engine.moe.ExpertParams;
import dev.pipemoe.engine.moe.GradAccumulation;
import dev.pipemoe.engine.moe.LayerParams;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.moe.RankContext;
import dev.pipemoe.engine.moe.Views;
import java.util.List;

/**
 * Ours: pipe-experts with what MindSpeed's version leaves on the table (docs/engine.md, "improved (ours)").
 *
 * <ul>
 *   <li><b>Decoupled issue.</b> Dispatch and combine are issued from the all-to-all issue stream and
 *       the TP collectives from the TP issue stream, each waiting only for the event it needs: the
 *       combine of chunk q starts when RS(q) ends, not after expert q+1.
 *   <li><b>Prefetch depth p.</b> A(q+p) is issued when expert q starts, so up to p dispatches run
 *       ahead of compute (MindSpeed: all of them, which on shared links slows the early chunks).
 *   <li><b>Balanced slices.</b> Slice lengths differ by at most one: no empty or long tail slice.
 *   <li><b>Zero copy.</b> Collectives read and write strided views of the layer's buffers (no
 *       clone, no cat); per local expert, activations live slot-major [C, A, .], so any capacity
 *       slice is one block of rows for the GEMMs.
 *   <li><b>One gradient accumulation per expert.</b> Weight-gradient GEMMs accumulate into the fp32
 *       main gradient directly: no per-slice cast and add.
 *   <li><b>n_fwd and n_bwd apart.</b> Backward slices independently of forward (FSMoE's finding).
 * </ul>
 *
 * Multi-stream issues every collective from one stream, each after the previous one: one chain
 * (EP never overlaps TP), in the order A(q+p) AG(q+p) RS(q) CB(q).
 *
 * <pre>
 * default, p = 1 (shared links; combine no longer waits for the next expert)
 *   EP   |[a0--][a1---]             [c0--][a2---]       [c1--]             [c2--]|
 *   TP   |      [g0--][g1--]  [r0--]            [g2--][r1--]        [r2--]       |
 *   COMP |            [E0---------]     [E1---------]      [E2---------]         |
 * </pre>
 */
public final class ImprovedSchedule implements Schedule {
  private final boolean multiStream;
  private final int slicesForward;
  private final int slicesBackward;
  private final int prefetch;

  public ImprovedSchedule(boolean multiStream, int slicesForward, int slicesBackward,
      int prefetch) {
    if (prefetch < 1) {
      throw new IllegalArgumentException("prefetch depth must be >= 1, was " + prefetch);
    }
    this.multiStream = multiStream;
    this.slicesForward = slicesForward;
    this.slicesBackward = slicesBackward;
    this.prefetch = prefetch;
  }

  @Override
  public String name() {
    return "improved" + (multiStream ? " ms" : "") + " N=" + slicesForward
        + (slicesBackward != slicesForward ? "/" + slicesBackward : "")
        + (prefetch != 1 ? " p=" + prefetch : "");
  }

  @Override
  public int[] expertRows(LayerShape shape) {
    return Schedule.expertStridedRows(shape);
  }

  /**
   * One direction's buffers, per local expert slot-major: [L, C, X, .] with X = EP for what
   * crosses the all-to-all and A (= TP*EP under SP, else EP) for what the expert computes on.
   */
  private record Buffers(Tensor received, Tensor gathered, Tensor inputF32, Tensor a, Tensor b,
      Tensor h, Tensor out, Tensor outWire, Tensor reduced) implements Saved {
    @Override
    public void close() {
      for (Tensor t : new Tensor[] {received, gathered, inputF32, a, b, h, out, outWire,
          reduced}) {
        if (t != null) {
          t.close();
        }
      }
    }
  }

  /** Chunk q of a [L, C, X, K] buffer as a slot-major [X, c, K] view. */
  private static Tensor block(Device d, Tensor buffer, Chunk q) {
    if (buffer == null) {
      return null;
    }
    try (Tensor expert = Views.select(d, buffer, 0, q.expert());
        Tensor slice = Views.slice(d, expert, 0, q.from(), q.to())) {
      return Views.transpose01(d, slice);
    }
  }

  /** Chunk q of the layer's [L, EP, C, M] tensor as a strided [EP, c, M] view. */
  private static Tensor layerSlice(Device d, Tensor layer4, Chunk q) {
    try (Tensor expert = Views.select(d, layer4, 0, q.expert())) {
      return Views.slice(d, expert, 1, q.from(), q.to());
    }
  }

  private static Buffers allocate(RankContext ctx, boolean forward) {
    Device d = ctx.device();
    LayerShape sh = ctx.shape();
    long l = sh.localExperts();
    long c = sh.capacity();
    long ep = sh.expert();
    long a = sh.gatheredBlocks();
    long m = sh.hidden();
    long f = sh.ffnShard();
    DType wire = sh.wire();
    boolean bf16 = wire == DType.BF16;
    Tensor received = d.alloc(wire, l, c, ep, m);
    Tensor gathered = sh.sequenceParallel() ? d.alloc(wire, l, c, a, m) : null;
    Tensor inputF32 = bf16 ? d.alloc(DType.F32, l, c, a, m) : null;
    if (!forward) {
      // backward: received/gathered hold output grads, inputF32 their F32 copy, reduced the input grads
      return new Buffers(received, gathered, inputF32, null, null, null, null, null,
          d.alloc(wire, l, c, ep, m));
    }
    return new Buffers(received, gathered, inputF32, d.alloc(DType.F32, l, c, a, f),
        sh.swiglu() ? d.alloc(DType.F32, l, c, a, f) : null, d.alloc(DType.F32, l, c, a, f),
        d.alloc(DType.F32, l, c, a, m), bf16 ? d.alloc(wire, l, c, a, m) : null,
        sh.sequenceParallel() ? d.alloc(wire, l, c, ep, m) : null);
  }

  /** Issues collectives either each from its own issue stream, or all in one chain. */
  private final class Issuer {
    private final RankContext ctx;
    private final Collectives coll;
    private Event previous;

    Issuer(RankContext ctx, Collectives coll) {
      this.ctx = ctx;
      this.coll = coll;
      // the layer's dispatch-pre (or combine-pre) ran on compute: collectives start after it
      Event ready = coll.mark(ctx.compute());
      coll.await(ctx.a2aIssue(), ready);
      coll.await(ctx.tpIssue(), ready);
    }

    Stream a2a(Event... after) {
      return stream(ctx.a2aIssue(), after);
    }

    Stream tp(Event... after) {
      return stream(multiStream ? ctx.a2aIssue() : ctx.tpIssue(), after);
    }

    private Stream stream(Stream s, Event... after) {
      for (Event e : after) {
        if (e != null) {
          coll.await(s, e);
        }
      }
      if (multiStream && previous != null) {
        coll.await(s, previous);
      }
      return s;
    }

    Event issued(Event done) {
      previous = done;
      return done;
    }
  }

  @Override
  public Saved forward(RankContext ctx, LayerParams params, Tensor dispatched, Tensor combined) {
    Device d = ctx.device();
    LayerShape sh = ctx.shape();
    Stream compute = ctx.compute();
    Collectives coll = new Collectives(ctx);
    Issuer issue = new Issuer(ctx, coll);
    List<Chunk> chunks = Chunks.balanced(sh, slicesForward);
    int n = chunks.size();
    Buffers buf = allocate(ctx, true);
    Event[] a = new Event[n];
    Event[] ag = new Event[n];
    Event[] cb = new Event[n];
    try (Tensor disp4 = Views.reshape(d, dispatched, sh.localExperts(), sh.expert(),
        sh.capacity(), sh.hidden());
        Tensor comb4 = Views.reshape(d, combined, sh.localExperts(), sh.expert(), sh.capacity(),
            sh.hidden())) {
      for (int q = 0; q < Math.min(prefetch, n); q++) {
        dispatch(ctx, coll, issue, buf, disp4, chunks.get(q), "A", "AG", a, ag);
      }
      for (Chunk q : chunks) {
        int i = q.index();
        coll.await(compute, sh.sequenceParallel() ? ag[i] : a[i]);
        Event started = coll.mark(compute);
        if (i + prefetch < n) {
          issue.a2a(started);
          dispatch(ctx, coll, issue, buf, disp4, chunks.get(i + prefetch), "A", "AG", a, ag);
        }
        Event computed = expertForward(ctx, params.experts().get(q.expert()), buf, q, coll);
        cb[i] = reduceAndCombine(ctx, coll, issue, buf, comb4, q, computed);
      }
      for (Event e : cb) {
        coll.await(compute, e);
      }
    }
    return buf;
  }

  /**
   * The all-to-all of chunk q into its buffer, and under SP the all-gather after it: A(q) and
   * AG(q) in forward, GA(q) and BAG(q) of the output gradients in backward.
   */
  private static void dispatch(RankContext ctx, Collectives coll, Issuer issue, Buffers buf,
      Tensor src4, Chunk q, String a2aLabel, String gatherLabel, Event[] a, Event[] ag) {
    Device d = ctx.device();
    int i = q.index();
    try (Tensor in = layerSlice(d, src4, q); Tensor out = block(d, buf.received(), q)) {
      a[i] = issue.issued(coll.allToAll(a2aLabel + q.label(), issue.a2a(), in, out));
      if (ctx.shape().sequenceParallel()) {
        try (Tensor g = block(d, buf.gathered(), q)) {
          ag[i] = issue.issued(coll.allGather(gatherLabel + q.label(), issue.tp(a[i]), out, g));
        }
      }
    }
  }

  /** Expert q on views of the pass buffers; returns the event of its end on compute. */
  private static Event expertForward(RankContext ctx, ExpertParams p, Buffers buf, Chunk q,
      Collectives coll) {
    Device d = ctx.device();
    Stream compute = ctx.compute();
    ctx.label("E" + q.label());
    try (ExpertMlp.Activations act = activations(ctx, buf, q, true);
        Tensor out = block(d, buf.out(), q);
        Tensor outWire = block(d, buf.outWire(), q)) {
      ExpertMlp.forward(ctx, p, act, out);
      if (outWire != null) {
        d.copy(compute, out, outWire);
      }
    }
    return coll.mark(compute);
  }

  /**
   * The chunk's activations as views. Forward converts the received (or gathered) wire input to
   * F32 when the wire is BF16; backward finds it converted already.
   */
  private static ExpertMlp.Activations activations(RankContext ctx, Buffers buf, Chunk q,
      boolean convert) {
    Device d = ctx.device();
    boolean sp = ctx.shape().sequenceParallel();
    try (Tensor wireIn = block(d, sp ? buf.gathered() : buf.received(), q);
        Tensor local = block(d, buf.received(), q);
        Tensor f32 = block(d, buf.inputF32(), q)) {
      Tensor x = f32 != null ? f32 : wireIn;
      if (convert && f32 != null) {
        d.copy(ctx.compute(), wireIn, f32);
      }
      return new ExpertMlp.Activations(Views.handle(d, x), buf.b() == null ? null : Views.handle(d, x),
          sp ? Views.handle(d, local) : null, block(d, buf.a(), q), block(d, buf.b(), q),
          block(d, buf.h(), q));
    }
  }

  /** RS(q) (or the TP all-reduce) after expert q, then CB(q) into the combined tensor. */
  private static Event reduceAndCombine(RankContext ctx, Collectives coll, Issuer issue,
      Buffers buf, Tensor comb4, Chunk q, Event computed) {
    Device d = ctx.device();
    LayerShape sh = ctx.shape();
    try (Tensor partial = block(d, buf.outWire() != null ? buf.outWire() : buf.out(), q);
        Tensor reduced = block(d, buf.reduced(), q);
        Tensor back = layerSlice(d, comb4, q)) {
      Event ready = computed;
      Tensor send = partial;
      if (sh.sequenceParallel()) {
        ready = issue.issued(coll.reduceScatter("RS" + q.label(), issue.tp(computed), partial,
            reduced));
        send = reduced;
      } else if (sh.tensorParallel()) {
        ready = issue.issued(coll.allReduce("RS" + q.label(), issue.tp(computed), partial));
      }
      return issue.issued(coll.allToAll("CB" + q.label(), issue.a2a(ready), send, back));
    }
  }

  @Override
  public void backward(RankContext ctx, LayerParams params, Saved saved, Tensor dCombined,
      Tensor dDispatched) {
    Buffers fwd = (Buffers) saved;
    Device d = ctx.device();
    LayerShape sh = ctx.shape();
    Stream compute = ctx.compute();
    Collectives coll = new Collectives(ctx);
    Issuer issue = new Issuer(ctx, coll);
    List<Chunk> chunks = Chunks.balanced(sh, slicesBackward);
    int n = chunks.size();
    Event[] ga = new Event[n];
    Event[] bag = new Event[n];
    Event[] gd = new Event[n];
    try (Buffers grad = allocate(ctx, false);
        Tensor dComb4 = Views.reshape(d, dCombined, sh.localExperts(), sh.expert(),
            sh.capacity(), sh.hidden());
        Tensor dDisp4 = Views.reshape(d, dDispatched, sh.localExperts(), sh.expert(),
            sh.capacity(), sh.hidden())) {
      for (int q = 0; q < Math.min(prefetch, n); q++) {
        dispatch(ctx, coll, issue, grad, dComb4, chunks.get(q), "GA", "BAG", ga, bag);
      }
      for (Chunk q : chunks) {
        int i = q.index();
        coll.await(compute, sh.sequenceParallel() ? bag[i] : ga[i]);
        Event started = coll.mark(compute);
        if (i + prefetch < n) {
          issue.a2a(started);
          dispatch(ctx, coll, issue, grad, dComb4, chunks.get(i + prefetch), "GA", "BAG", ga, bag);
        }
        expertBackward(ctx, params.experts().get(q.expert()), fwd, grad, q);
        Event computed = coll.mark(compute);
        try (Tensor dIn = block(d, grad.reduced(), q); Tensor back = layerSlice(d, dDisp4, q)) {
          gd[i] = issue.issued(coll.allToAll("GD" + q.label(), issue.a2a(computed), dIn, back));
        }
      }
      for (Event e : gd) {
        coll.await(compute, e);
      }
    }
  }

  private static void expertBackward(RankContext ctx, ExpertParams p, Buffers fwd, Buffers grad,
      Chunk q) {
    Device d = ctx.device();
    Stream compute = ctx.compute();
    boolean sp = ctx.shape().sequenceParallel();
    ctx.label("B" + q.label());
    try (ExpertMlp.Activations act = activations(ctx, fwd, q, false);
        Tensor dWire = block(d, sp ? grad.gathered() : grad.received(), q);
        Tensor dF32 = block(d, grad.inputF32(), q);
        Tensor dIn = block(d, grad.reduced(), q)) {
      Tensor dOut = dWire;
      if (dF32 != null) {
        d.copy(compute, dWire, dF32);
        dOut = dF32;
      }
      if (sp) {
        ExpertMlp.backward(ctx, p, act, dOut, dIn, GradAccumulation.FUSED, q.label());
        return;
      }
      try (Tensor dInF32 = Views.allocLike(d, DType.F32, dIn, ctx.shape().hidden())) {
        ExpertMlp.backward(ctx, p, act, dOut, dInF32, GradAccumulation.FUSED, q.label());
        ctx.label("B" + q.label());
        d.copy(compute, dInF32, dIn);
      }
    }
  }
}
