package dev.pipemoe.engine.moe;

/**
 * Where a rank sits: its TP index t, data index d, EP index, and the global ranks of each of its
 * groups (layout in {@link dev.pipemoe.engine.moe}).
 *
 * <p>With context parallelism the MoE block's data ranks are the CP x DP ranks: data index d = c +
 * CP * p for CP index c and DP index p, so {@code rank = t + TP * (c + CP * p)} (TP innermost, then
 * CP). EP and expert-replica groups are cut from the data ranks as without CP.
 *
 * @param data the MoE block's data ranks, CP x DP
 * @param context CP, which divides data
 */
public record Topology(int rank, int tensor, int data, int expert, int context) {

  public Topology {
    if (rank < 0 || rank >= tensor * data) {
      throw new IllegalArgumentException("rank " + rank + " outside world " + tensor * data);
    }
    if (context < 1 || data % context != 0) {
      throw new IllegalArgumentException("CP=" + context + " must divide the data ranks " + data);
    }
  }

  /** Without context parallelism. */
  public Topology(int rank, int tensor, int data, int expert) {
    this(rank, tensor, data, expert, 1);
  }

  public static Topology of(int rank, LayerShape shape) {
    return of(rank, shape, 1);
  }

  public static Topology of(int rank, LayerShape shape, int contextParallel) {
    return new Topology(rank, shape.tensor(), shape.data(), shape.expert(), contextParallel);
  }

  /** c: which contiguous chunk of each sequence this rank holds. */
  public int cpIndex() {
    return dataIndex() % context;
  }

  /** p: which of the DP ranks' distinct samples this rank sees. */
  public int dpIndex() {
    return dataIndex() / context;
  }

  /** The CP ring: same t and DP index, every c in ring order. */
  public int[] cpGroup() {
    int[] r = new int[context];
    for (int c = 0; c < context; c++) {
      r[c] = tpIndex() + tensor * (c + context * dpIndex());
    }
    return r;
  }

  /** The ranks over which dense (non-expert) gradients are summed: every CP x DP rank of one t. */
  public int[] denseGroup() {
    return routerGroup(false);
  }

  public String cpGroupName() {
    return "cp" + dpIndex() + "." + tpIndex();
  }

  public String denseGroupName() {
    return "dense." + tpIndex();
  }

  public int tpIndex() {
    return rank % tensor;
  }

  public int dataIndex() {
    return rank / tensor;
  }

  public int epIndex() {
    return dataIndex() % expert;
  }

  /** The TP group: same data index, every t. */
  public int[] tpGroup() {
    int[] r = new int[tensor];
    for (int t = 0; t < tensor; t++) {
      r[t] = dataIndex() * tensor + t;
    }
    return r;
  }

  /** The EP group: EP consecutive data ranks with the same t. */
  public int[] epGroup() {
    int first = dataIndex() / expert * expert;
    int[] r = new int[expert];
    for (int j = 0; j < expert; j++) {
      r[j] = (first + j) * tensor + tpIndex();
    }
    return r;
  }

  /** The ranks holding the same expert shards: same EP index and t in every EP group. */
  public int[] expertReplicaGroup() {
    int groups = data / expert;
    int[] r = new int[groups];
    for (int g = 0; g < groups; g++) {
      r[g] = (g * expert + epIndex()) * tensor + tpIndex();
    }
    return r;
  }

  /** The ranks that see distinct tokens and replicate the router: all of them under SP, else one t. */
  public int[] routerGroup(boolean sequenceParallel) {
    if (sequenceParallel) {
      int[] r = new int[tensor * data];
      for (int i = 0; i < r.length; i++) {
        r[i] = i;
      }
      return r;
    }
    int[] r = new int[data];
    for (int d = 0; d < data; d++) {
      r[d] = d * tensor + tpIndex();
    }
    return r;
  }

  /** Group names must be equal on all members, so they encode the group, not the rank. */
  public String tpGroupName() {
    return "tp" + dataIndex();
  }

  public String epGroupName() {
    return "ep" + (dataIndex() / expert) + "." + tpIndex();
  }

  public String expertReplicaGroupName() {
    return "edp" + epIndex() + "." + tpIndex();
  }

  public String routerGroupName(boolean sequenceParallel) {
    return sequenceParallel ? "router" : "router." + tpIndex();
  }
}
