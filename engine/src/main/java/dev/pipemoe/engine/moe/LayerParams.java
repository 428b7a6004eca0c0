package dev.pipemoe.engine.moe;

import dev.pipemoe.engine.device.Device;
import java.util.ArrayList;
import java.util.List;

/** One layer's parameters on one rank: the fp32 router [E, M] (replicated) and the local experts. */
public record LayerParams(Param router, List<ExpertParams> experts) implements AutoCloseable {

  public static LayerParams init(Device d, LayerShape shape, Topology topo, long seed, int layer) {
    int e = shape.experts();
    int m = shape.hidden();
    Param router = new Param(d, "layer" + layer + ".router", e, m,
        () -> HostRandom.normalBlock(HostRandom.key(seed, "router", layer), m, 0, e, 0, m,
            1 / Math.sqrt(m)));
    List<ExpertParams> experts = new ArrayList<>();
    int local = shape.localExperts();
    for (int i = 0; i < local; i++) {
      experts.add(ExpertParams.init(d, shape, topo, seed, layer, topo.epIndex() * local + i));
    }
    return new LayerParams(router, List.copyOf(experts));
  }

  public List<Param> expertParams() {
    List<Param> l = new ArrayList<>();
    experts.forEach(x -> l.addAll(x.all()));
    return l;
  }

  public List<Param> all() {
    List<Param> l = new ArrayList<>();
    l.add(router);
    l.addAll(expertParams());
    return l;
  }

  @Override
  public void close() {
    router.close();
    experts.forEach(ExpertParams::close);
  }
}
