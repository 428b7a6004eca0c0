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
 * MindSpeed's pipe-experts as shipped until 2025-10 ({@code mindspeed/moe/pipe_experts.py},
 * docs/reference.md §4): n = L*N chunks, expert-major, each a ceil slice of one local expert's
 * capacity, cloned into its own buffer; expert-strided rows; every chunk's weight gradient cast and
 * added on its own.
 *
 * <p>Default mode (§4.3): all dispatch all-to-alls issued up front, the all-gather one chunk ahead,
 * everything issued from the compute stream, so expert q waits for A(q+1) and the combine of chunk
 * q-1 starts only after expert q:
 *
 * <pre>
 *   EP   |[a0---][a1----][a2----]                        [c0----]        [c1----][c2----]|
 *   TP   |       [g0----][g1----]        [r0----][g2----][r1----]        [r2----]        |
 *   COMP |               [E0------------][E1------------][E2------------]                |
 * </pre>
 *
 * Multi-stream (§4.4): dispatch and all-gather are issued from two issue streams that wait on the
 * previous collective, so all collectives form one chain and EP never overlaps TP:
 *
 * <pre>
 *   EP   |[a0---]        [a1----]                [c0----][a2----]                [c1----]        [c2----]|
 *   TP   |       [g0----]        [g1----][r0----]                [g2----][r1----]        [r2----]        |
 *   COMP |               [E0------------][E1------------]                [E2------------]                |
 * </pre>
 *
 * Without SP the all-gathers vanish, compute waits A(q) itself, and the reduce-scatter becomes an
 * in-place TP all-reduce (nothing at TP = 1).
 */
public final class MindSpeedSchedule implements Schedule {
  private final boolean multiStream;
  private final int slices;

  /**
   * @param multiStream {@code --pipe-experts-multi-stream} (needs SP)
   * @param slices N, {@code --pipe-experts-multi-data}
   */
  public MindSpeedSchedule(boolean multiStream, int slices) {
    this.multiStream = multiStream;
    this.slices = slices;
  }

  @Override
  public String name() {
    return "mindspeed" + (multiStream ? " ms" : "") + " N=" + slices;
  }

  @Override
  public int[] expertRows(LayerShape shape) {
    return Schedule.expertStridedRows(shape);
  }

  /** Per-chunk buffers of one pass. */
  private record Buffers(List<Tensor> sent, List<Tensor> received, List<Tensor> gathered,
      List<Tensor> results, List<Tensor> returned) implements AutoCloseable {
    @Override
    public void close() {
      for (List<Tensor> l : List.of(sent, received, gathered, results, returned)) {
        l.forEach(t -> {
          if (t != null) {
            t.close();
          }
        });
      }
    }
  }

  @Override
  public Saved forward(RankContext ctx, LayerParams params, Tensor dispatched, Tensor combined) {
    LayerShape shape = ctx.shape();
    if (multiStream && !shape.sequenceParallel()) {
      throw new IllegalStateException("multi-stream needs sequence parallelism (V2)");
    }
    Device d = ctx.device();
    Stream compute = ctx.compute();
    Collectives coll = new Collectives(ctx);
    ExpertWork work = new ExpertWork(ctx, params, GradAccumulation.PER_CHUNK);
    List<Chunk> chunks = Chunks.ceil(shape, slices);
    int n = chunks.size();
    boolean sp = shape.sequenceParallel();

    List<ExpertMlp.Activations> saved = new ArrayList<>();
    Event[] a = new Event[n];
    Event[] ag = new Event[n];
    Event[] rs = new Event[n];
    Event[] cb = new Event[n];
    try (Buffers buf = dealData(ctx, dispatched, chunks)) {
      if (!multiStream) {
        for (Chunk q : chunks) {
          a[q.index()] = coll.allToAll("A" + q.label(), compute, buf.sent().get(q.index()),
              buf.received().get(q.index()));
        }
        for (Chunk q : chunks) {
          int i = q.index();
          if (sp) {
            if (i == 0) {
              coll.await(compute, a[0]);
              ag[0] = gather(coll, "AG", compute, buf, chunks.get(0));
            }
            if (i < n - 1) {
              coll.await(compute, a[i + 1]); // the prefetch: expert q waits for dispatch q+1
              ag[i + 1] = gather(coll, "AG", compute, buf, chunks.get(i + 1));
            }
            coll.await(compute, ag[i]);
          } else {
            coll.await(compute, a[i]);
          }
          ExpertWork.Forward f = expert(work, buf, q, sp);
          saved.add(f.act());
          if (i > 0) {
            if (rs[i - 1] != null) {
              coll.await(compute, rs[i - 1]);
            }
            cb[i - 1] = combine(coll, compute, buf, chunks.get(i - 1));
          }
          rs[i] = reduce(ctx, coll, buf, q, f.partial());
        }
        if (rs[n - 1] != null) {
          coll.await(compute, rs[n - 1]);
        }
        cb[n - 1] = combine(coll, compute, buf, chunks.get(n - 1));
      } else {
        Stream a2a = ctx.a2aIssue();
        Stream tp = ctx.tpIssue();
        a[0] = coll.allToAll("A0", compute, buf.sent().get(0), buf.received().get(0));
        coll.await(tp, a[0]);
        ag[0] = gather(coll, "AG", tp, buf, chunks.get(0));
        for (Chunk q : chunks) {
          int i = q.index();
          if (i < n - 1) {
            Chunk next = chunks.get(i + 1);
            coll.await(a2a, ag[i]);
            a[i + 1] = coll.allToAll("A" + next.label(), a2a, buf.sent().get(i + 1),
                buf.received().get(i + 1));
            coll.await(tp, a[i + 1]);
            ag[i + 1] = gather(coll, "AG", tp, buf, next);
          }
          coll.await(compute, ag[i]);
          ExpertWork.Forward f = expert(work, buf, q, true);
          saved.add(f.act());
          coll.await(compute, a[i]); // MindSpeed waits both before freeing their buffers
          coll.await(compute, ag[i]);
          rs[i] = reduce(ctx, coll, buf, q, f.partial());
          coll.await(a2a, rs[i]);
          cb[i] = combine(coll, a2a, buf, q);
        }
      }
      for (Event e : cb) {
        coll.await(compute, e);
      }
      assemble(ctx, buf.returned(), combined, chunks);
    }
    return new ExpertWork.SavedChunks(saved);
  }

  /** deal_data: chunk q = rows [i*EP, (i+1)*EP) x capacity [from, to), cloned contiguous. */
  private static Buffers dealData(RankContext ctx, Tensor dispatched, List<Chunk> chunks) {
    Device d = ctx.device();
    LayerShape shape = ctx.shape();
    long ep = shape.expert();
    long m = shape.hidden();
    Buffers buf = new Buffers(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
        new ArrayList<>(), new ArrayList<>());
    ctx.label("deal");
    try (Tensor byExpert = Views.reshape(d, dispatched, shape.localExperts(), ep,
        shape.capacity(), m)) {
      for (Chunk q : chunks) {
        long c = q.length();
        Tensor sent = ctx.allocWire(ep, c, m);
        try (Tensor rows = Views.select(d, byExpert, 0, q.expert());
            Tensor slice = Views.slice(d, rows, 1, q.from(), q.to())) {
          d.copy(ctx.compute(), slice, sent);
        }
        buf.sent().add(sent);
        buf.received().add(ctx.allocWire(ep, c, m));
        buf.gathered().add(shape.sequenceParallel() ? ctx.allocWire(shape.tensor() * ep, c, m)
            : null);
        buf.results().add(null);
        buf.returned().add(ctx.allocWire(ep, c, m));
      }
    }
    return buf;
  }

  /** The TP all-gather of chunk q's received block: AG(q) in forward, BAG(q) in backward. */
  private static Event gather(Collectives coll, String label, Stream from, Buffers buf, Chunk q) {
    return coll.allGather(label + q.label(), from, buf.received().get(q.index()),
        buf.gathered().get(q.index()));
  }

  private static ExpertWork.Forward expert(ExpertWork work, Buffers buf, Chunk q, boolean sp) {
    Tensor in = sp ? buf.gathered().get(q.index()) : buf.received().get(q.index());
    return work.forward(q, in, in, buf.received().get(q.index()));
  }

  /**
   * RS(q) from compute into the chunk's result; without SP an in-place all-reduce, or nothing at
   * TP = 1 (then the event is null). The result is what the combine all-to-all sends.
   */
  private static Event reduce(RankContext ctx, Collectives coll, Buffers buf, Chunk q,
      Tensor partial) {
    Stream compute = ctx.compute();
    LayerShape shape = ctx.shape();
    if (shape.sequenceParallel()) {
      Tensor result = ctx.allocWire(shape.expert(), q.length(), shape.hidden());
      buf.results().set(q.index(), result);
      try (partial) {
        return coll.reduceScatter("RS" + q.label(), compute, partial, result);
      }
    }
    buf.results().set(q.index(), partial);
    return shape.tensorParallel() ? coll.allReduce("RS" + q.label(), compute, partial) : null;
  }

  private static Event combine(Collectives coll, Stream from, Buffers buf, Chunk q) {
    return coll.allToAll("CB" + q.label(), from, buf.results().get(q.index()),
        buf.returned().get(q.index()));
  }

  /** The final cat: chunk q back into rows [i*EP, (i+1)*EP) x [from, to) of the [E, C, M] result. */
  private static void assemble(RankContext ctx, List<Tensor> parts, Tensor whole,
      List<Chunk> chunks) {
    Device d = ctx.device();
    LayerShape shape = ctx.shape();
    ctx.label("cat");
    try (Tensor byExpert = Views.reshape(d, whole, shape.localExperts(), shape.expert(),
        shape.capacity(), shape.hidden())) {
      for (Chunk q : chunks) {
        try (Tensor rows = Views.select(d, byExpert, 0, q.expert());
            Tensor slice = Views.slice(d, rows, 1, q.from(), q.to())) {
          d.copy(ctx.compute(), parts.get(q.index()), slice);
        }
      }
    }
  }

  /**
   * Backward (§4.5). Default mode: all grad all-to-alls GA up front, the grad all-gather BAG one
   * ahead, expert backward (with its column-linear AG/RS), the input-grad all-to-all GD issued
   * from compute. Multi-stream chains GA(q+1) after BAG(q) and BAG(q+1) after GA(q+1); GD and the
   * column-linear collectives stay on compute, so backward is only partly serialised.
   */
  @Override
  public void backward(RankContext ctx, LayerParams params, Saved saved, Tensor dCombined,
      Tensor dDispatched) {
    ExpertWork.SavedChunks state = (ExpertWork.SavedChunks) saved;
    LayerShape shape = ctx.shape();
    Stream compute = ctx.compute();
    Collectives coll = new Collectives(ctx);
    ExpertWork work = new ExpertWork(ctx, params, GradAccumulation.PER_CHUNK);
    List<Chunk> chunks = Chunks.ceil(shape, slices);
    int n = chunks.size();
    boolean sp = shape.sequenceParallel();

    Event[] ga = new Event[n];
    Event[] bag = new Event[n];
    Event[] gd = new Event[n];
    try (Buffers buf = dealData(ctx, dCombined, chunks)) {
      // reuse: sent = output grad slices, received = after GA, gathered = after BAG,
      // results = input grad of the chunk, returned = after GD
      for (int i = 0; i < n; i++) {
        buf.results().set(i, ctx.allocWire(shape.expert(), chunks.get(i).length(),
            shape.hidden()));
      }
      if (!multiStream) {
        for (Chunk q : chunks) {
          ga[q.index()] = coll.allToAll("GA" + q.label(), compute, buf.sent().get(q.index()),
              buf.received().get(q.index()));
        }
      } else {
        ga[0] = coll.allToAll("GA0", compute, buf.sent().get(0), buf.received().get(0));
        coll.await(ctx.tpIssue(), ga[0]);
        bag[0] = gather(coll, "BAG", ctx.tpIssue(), buf, chunks.get(0));
      }
      for (Chunk q : chunks) {
        int i = q.index();
        if (sp && !multiStream) {
          if (i == 0) {
            coll.await(compute, ga[0]);
            bag[0] = gather(coll, "BAG", compute, buf, chunks.get(0));
          }
          if (i < n - 1) {
            coll.await(compute, ga[i + 1]);
            bag[i + 1] = gather(coll, "BAG", compute, buf, chunks.get(i + 1));
          }
          coll.await(compute, bag[i]);
        } else if (multiStream) {
          if (i < n - 1) {
            Chunk next = chunks.get(i + 1);
            coll.await(ctx.a2aIssue(), bag[i]);
            ga[i + 1] = coll.allToAll("GA" + next.label(), ctx.a2aIssue(),
                buf.sent().get(i + 1), buf.received().get(i + 1));
            coll.await(ctx.tpIssue(), ga[i + 1]);
            bag[i + 1] = gather(coll, "BAG", ctx.tpIssue(), buf, next);
          }
          coll.await(compute, bag[i]);
        } else {
          coll.await(compute, ga[i]);
        }
        Tensor dOut = sp ? buf.gathered().get(i) : buf.received().get(i);
        work.backward(q, state.chunks().get(i), dOut, buf.results().get(i));
        gd[i] = coll.allToAll("GD" + q.label(), compute, buf.results().get(i),
            buf.returned().get(i));
      }
      for (Event e : gd) {
        coll.await(compute, e);
      }
      assemble(ctx, buf.returned(), dDispatched, chunks);
    }
  }
}
