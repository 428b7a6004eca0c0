package dev.pipemoe.engine.moe;

import dev.pipemoe.engine.device.Device;
import java.util.ArrayList;
import java.util.List;

/**
 * One local expert's TP shard: W1 (and W3 for SwiGLU) column-parallel [F/TP, M], W2 row-parallel
 * [M, F/TP]. Weights are distinct per global expert and identical for one expert whatever the
 * layout, because each shard is cut from the same counter-based matrix.
 */
public record ExpertParams(Param w1, Param w3, Param w2) implements AutoCloseable {

  public static ExpertParams init(Device d, LayerShape shape, Topology topo, long seed, int layer,
      int globalExpert) {
    int m = shape.hidden();
    int f = shape.ffnHidden();
    int shard = shape.ffnShard();
    long r0 = (long) topo.tpIndex() * shard;
    double inStd = 1 / Math.sqrt(m);
    double outStd = 1 / Math.sqrt(f);
    Param w1 = new Param(d, "layer" + layer + ".expert" + globalExpert + ".w1", shard, m,
        () -> HostRandom.normalBlock(HostRandom.key(seed, "w1", layer, globalExpert), m, r0, r0 + shard,
            0, m, inStd));
    Param w3 = shape.swiglu()
        ? new Param(d, "layer" + layer + ".expert" + globalExpert + ".w3", shard, m,
            () -> HostRandom.normalBlock(HostRandom.key(seed, "w3", layer, globalExpert), m, r0,
                r0 + shard, 0, m, inStd))
        : null;
    Param w2 = new Param(d, "layer" + layer + ".expert" + globalExpert + ".w2", m, shard,
        () -> HostRandom.normalBlock(HostRandom.key(seed, "w2", layer, globalExpert), f, 0, m, r0,
            r0 + shard, outStd));
    return new ExpertParams(w1, w3, w2);
  }

  public List<Param> all() {
    List<Param> l = new ArrayList<>(3);
    l.add(w1);
    if (w3 != null) {
      l.add(w3);
    }
    l.add(w2);
    return l;
  }

  @Override
  public void close() {
    all().forEach(Param::close);
  }
}
