package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.DeviceException;
import java.util.Arrays;

/**
 * One collective of a group, matched across its members by issue order on the group's queue, as
 * NCCL and HCCL match them. It starts when every member's queue reached it; then it is one flow of
 * the link model.
 */
final class Collective {
  final SimGroup group;
  final long seq;
  final String kind;
  final Op[] members;
  final SimTensor[] in;
  final SimTensor[] out;
  int arrived;
  /**
   * Member ops that will exist: every member's, or only the representative's on a symmetric fabric
   * (all ranks issue the same ops at the same times, so one stands for all).
   */
  final int expected;
  /** Bytes each member sends (docs/engine.md, "Collective volumes"). */
  double bytes;
  /** A shift's offset modulo the group size (0 for the other kinds): part of what must match. */
  int offset;

  Collective(SimGroup group, long seq, String kind) {
    this.group = group;
    this.seq = seq;
    this.kind = kind;
    int n = group.ranks.length;
    this.expected = group.symmetric ? 1 : n;
    this.members = new Op[n];
    this.in = new SimTensor[n];
    this.out = new SimTensor[n];
  }

  /**
   * Adds member {@code index}'s op. A different kind, input shape or shift offset (modulo the
   * group size) than the others' fails the op, and with it every member when the collective runs:
   * a peer's choice is found while running, so it poisons the queues instead of refusing the call
   * (the Device contract).
   */
  void join(int index, Op op, SimTensor input, SimTensor output, int shiftOffset) {
    int off = Math.floorMod(shiftOffset, members.length);
    boolean first = present().isEmpty();
    for (int i = 0; i < members.length && op.error == null; i++) {
      if (members[i] != null && (!kind.equals(op.name) || offset != off
          || !Arrays.equals(in[i].shape, input.shape) || in[i].dtype != input.dtype)) {
        op.error = new DeviceException(4, op.name + ": rank " + op.rank() + " issued "
            + describe(op.name, input, off) + " as collective #" + seq + " of group "
            + group.name + ", where rank " + members[i].rank() + " issued "
            + describe(kind, in[i], offset) + ": members must issue the same collectives in the"
            + " same order");
      }
    }
    if (first) {
      offset = off;
    }
    members[index] = op;
    in[index] = input;
    out[index] = output;
    op.collective = this;
  }

  private static String describe(String kind, SimTensor input, int offset) {
    return kind + " " + input + (kind.equals("shift") ? " by " + offset : "");
  }

  boolean complete() {
    return present().size() == expected;
  }

  /** The member ops issued so far. */
  java.util.List<Op> present() {
    java.util.List<Op> l = new java.util.ArrayList<>(members.length);
    for (Op m : members) {
      if (m != null) {
        l.add(m);
      }
    }
    return l;
  }

  /** The members that have not issued it yet, for error messages. */
  String missing() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < members.length; i++) {
      if (members[i] == null) {
        b.append(b.isEmpty() ? "" : ", ").append(group.ranks[i]);
      }
    }
    return "[" + b + "]";
  }
}
