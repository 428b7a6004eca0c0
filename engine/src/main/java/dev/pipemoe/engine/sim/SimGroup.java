package dev.pipemoe.engine.sim;

import java.util.HashMap;
import java.util.Map;

/** One process group of a simulated fabric: its members and its collectives by issue order. */
final class SimGroup {
  final String name;
  final int[] ranks;
  /** Link set of every member: intra-node or inter-node by the topology. */
  final int linkSet;
  /** Bytes/s of one member alone on its link: the intra- or inter-node figure. */
  final double bandwidth;
  /** Only the representative rank issues (see {@link SimFabric#symmetric}). */
  final boolean symmetric;
  final Map<Long, Collective> collectives = new HashMap<>();
  final boolean[] joined;

  SimGroup(String name, int[] ranks, int linkSet, double bandwidth, boolean symmetric) {
    this.bandwidth = bandwidth;
    this.symmetric = symmetric;
    this.name = name;
    this.ranks = ranks;
    this.linkSet = linkSet;
    this.joined = new boolean[ranks.length];
  }

  Collective collective(long seq, String kind) {
    return collectives.computeIfAbsent(seq, s -> new Collective(this, s, kind));
  }
}
