package dev.pipemoe.engine.moe;

/**
 * Where a rank sits: its TP index t, data index d, EP index, and the global ranks of each of its
 * groups (layout in {@link dev.pipemoe.engine.moe}).
 */
public record Topology(int rank, int tensor, int data, int expert) {

  public Topology {
    if (rank < 0 || rank >= tensor * data) {
      throw new IllegalArgumentException("rank " + rank + " outside world " + tensor * data);
    }
  }

  public static Topology of(int rank, LayerShape shape) {
    return new Topology(rank, shape.tensor(), shape.data(), shape.expert());
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
