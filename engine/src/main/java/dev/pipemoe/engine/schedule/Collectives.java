package dev.pipemoe.engine.schedule;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.RankContext;

/**
 * The schedules' vocabulary: each method issues one labelled collective from a stream and returns
 * the event of its completion, so a schedule reads as its timeline ("A(q) from compute", "compute
 * waits AG(q)").
 */
final class Collectives {
  private final RankContext ctx;
  private final Device d;

  Collectives(RankContext ctx) {
    this.ctx = ctx;
    this.d = ctx.device();
  }

  /** EP all-to-all, equal split on dim 0 (= EP). */
  Event allToAll(String label, Stream from, Tensor in, Tensor out) {
    Event done = ctx.event();
    ctx.label(label);
    d.allToAll(from, ctx.ep(), in, out, done);
    return done;
  }

  /** TP all-gather on dim 0. */
  Event allGather(String label, Stream from, Tensor in, Tensor out) {
    Event done = ctx.event();
    ctx.label(label);
    d.allGather(from, ctx.tp(), in, out, done);
    return done;
  }

  /** TP reduce-scatter on dim 0. */
  Event reduceScatter(String label, Stream from, Tensor in, Tensor out) {
    Event done = ctx.event();
    ctx.label(label);
    d.reduceScatter(from, ctx.tp(), in, out, done);
    return done;
  }

  /** TP all-reduce in place. */
  Event allReduce(String label, Stream from, Tensor inOut) {
    Event done = ctx.event();
    ctx.label(label);
    d.allReduce(from, ctx.tp(), inOut, inOut, done);
    return done;
  }

  /** Stream {@code s} waits for {@code e} (the host does not). */
  void await(Stream s, Event e) {
    d.waitEvent(s, e);
  }

  /** An event recorded on {@code s} now. */
  Event mark(Stream s) {
    Event e = ctx.event();
    d.record(e, s);
    return e;
  }
}
