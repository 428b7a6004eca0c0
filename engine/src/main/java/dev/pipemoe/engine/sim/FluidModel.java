package dev.pipemoe.engine.sim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The link model's arithmetic, the same as the native runtime's {@code FluidModel}
 * (native-bridge/native/src/link_model.cpp; docs/engine.md, "Link sharing"): a collective is a
 * flow that, once all its members arrived, pays its latency alpha (not shared) and then moves
 * {@code bytes} per member. While m flows are active on one member's link set, each progresses there
 * at {@code B / (m * congestion)} when m &gt; 1 (B when alone); a flow progresses at the minimum
 * over its members. Rates change only when a flow activates or finishes, so the model jumps from
 * event to event. Unlike the native one, it counts the flows per (rank, link set) as they come and
 * go, so one event costs O(flows x members) instead of O((flows x members)^2); and a flow may
 * carry its own solo bandwidth B (a 910C die reaches peers outside its node through the same ports
 * a little slower than inside it). With every flow at its link set's bandwidth, the two agree.
 */
final class FluidModel {
  /** A flow with less than this many bytes left is done: guards against rounding residue. */
  private static final double BYTE_EPS = 1e-6;

  private final double congestion;
  private final double[] bandwidth;
  private final Map<Long, Integer> sharing = new HashMap<>();
  private final List<Flow> flows = new ArrayList<>();
  private double now;

  /** @param bandwidth bytes/s per link set; 0 means unmodelled (such members do not constrain) */
  FluidModel(double congestion, double[] bandwidth) {
    this.congestion = congestion;
    this.bandwidth = bandwidth.clone();
  }

  /** A flow of the caller's; {@code endAt} is set when it finishes. */
  static final class Flow {
    final Object owner;
    final int[] ranks;
    final int[] linkSets;
    final double activeAt;
    final double bandwidth;
    double remaining;
    double rate;
    boolean active;
    double endAt = -1;

    private Flow(Object owner, int[] ranks, int[] linkSets, double activeAt, double bytes,
        double bandwidth) {
      this.owner = owner;
      this.bandwidth = bandwidth;
      this.ranks = ranks;
      this.linkSets = linkSets;
      this.activeAt = activeAt;
      this.remaining = bytes;
    }

    Object owner() {
      return owner;
    }

    double endAt() {
      return endAt;
    }
  }

  double now() {
    return now;
  }

  boolean modelled(int linkSet) {
    return linkSet < bandwidth.length && bandwidth[linkSet] > 0;
  }

  /**
   * A flow whose members all arrived at {@code now()}: members on unmodelled link sets do not
   * constrain it; with none modelled it finishes at once (returned in the next {@link #advance}).
   */
  Flow add(Object owner, int[] ranks, int[] linkSets, double bytes, double alpha) {
    return add(owner, ranks, linkSets, bytes, alpha, Double.NaN);
  }

  /** As {@link #add(Object, int[], int[], double, double)}, alone at {@code bandwidth} (NaN: the link set's). */
  Flow add(Object owner, int[] ranks, int[] linkSets, double bytes, double alpha,
      double bandwidth) {
    int n = 0;
    for (int linkSet : linkSets) {
      n += modelled(linkSet) ? 1 : 0;
    }
    int[] r = new int[n];
    int[] l = new int[n];
    for (int i = 0, j = 0; i < ranks.length; i++) {
      if (modelled(linkSets[i])) {
        r[j] = ranks[i];
        l[j++] = linkSets[i];
      }
    }
    Flow f = new Flow(owner, r, l, n == 0 ? now : now + alpha, n == 0 ? 0 : bytes, bandwidth);
    flows.add(f);
    return f;
  }

  /** The next activation or finish after now, or +infinity. */
  double nextEvent() {
    double t = Double.POSITIVE_INFINITY;
    for (Flow f : flows) {
      if (!f.active) {
        t = Math.min(t, Math.max(f.activeAt, now));
      } else {
        t = Math.min(t, now + f.remaining / f.rate);
      }
    }
    return t;
  }

  /** Moves the model to time t (&ge; now); returns the flows that finished, in arrival order. */
  List<Flow> advance(double t) {
    List<Flow> done = new ArrayList<>();
    settle(done);
    while (now < t) {
      double e = nextEvent();
      if (e > t) {
        stepTo(t, done);
        break;
      }
      stepTo(Math.max(e, now), done);
    }
    return done;
  }

  private void stepTo(double t, List<Flow> done) {
    double dt = t - now;
    for (Flow f : flows) {
      if (!f.active) {
        continue;
      }
      // the second test catches finishes lost to rounding of now + remaining / rate
      boolean finished = f.remaining - f.rate * dt <= BYTE_EPS || now + f.remaining / f.rate <= t;
      f.remaining -= f.rate * dt;
      if (finished) {
        f.remaining = 0;
        f.endAt = t;
      }
    }
    now = t;
    settle(done);
  }

  /** Retires finished flows, activates due ones, recomputes rates when anything changed. */
  private void settle(List<Flow> done) {
    boolean changed = false;
    for (int i = 0; i < flows.size(); i++) {
      Flow f = flows.get(i);
      if (!f.active && f.activeAt <= now) {
        if (f.remaining <= BYTE_EPS) {
          f.endAt = now;  // nothing to send: done on activation
        } else {
          f.active = true;
          count(f, 1);
          changed = true;
        }
      }
      if (f.endAt >= 0) {
        if (f.active) {
          count(f, -1);
          f.active = false;
        }
        flows.remove(i--);
        done.add(f);
        changed = true;
      }
    }
    if (changed) {
      for (Flow f : flows) {
        if (f.active) {
          f.rate = rate(f);
        }
      }
    }
  }

  private double rate(Flow f) {
    double rate = Double.POSITIVE_INFINITY;
    for (int i = 0; i < f.ranks.length; i++) {
      int m = sharing.getOrDefault(key(f.ranks[i], f.linkSets[i]), 0);
      double b = Double.isNaN(f.bandwidth) ? bandwidth[f.linkSets[i]] : f.bandwidth;
      rate = Math.min(rate, m > 1 ? b / (m * congestion) : b);
    }
    return rate;
  }

  private void count(Flow f, int delta) {
    for (int i = 0; i < f.ranks.length; i++) {
      sharing.merge(key(f.ranks[i], f.linkSets[i]), delta, Integer::sum);
    }
  }

  private static long key(int rank, int linkSet) {
    return ((long) rank << 8) | linkSet;
  }
}
