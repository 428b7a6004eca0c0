package dev.pipemoe.engine.moe;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;

/**
 * Everything one rank's layer code needs besides parameters: its device, shape, place, streams and
 * communicators. Created once per rank and run; not thread-safe (one rank thread).
 *
 * <p>Streams are MindSpeed's: the compute stream, and two <em>issue</em> streams that carry no
 * work of their own, only event waits, so that a collective issued from them depends on a
 * communication event instead of on the compute stream (docs/reference.md §4.2).
 */
public final class RankContext implements AutoCloseable {
  /** Link set of EP traffic, and of everything when EP and TP share links. */
  public static final int LINKS_EP = 0;
  /** Link set of TP traffic when it has links of its own. */
  public static final int LINKS_TP = 1;

  /** TP's link set: EP's when the links are shared (910C-like), its own otherwise. */
  public static int tpLinkSet(boolean sharedLinks) {
    return sharedLinks ? LINKS_EP : LINKS_TP;
  }

  private final Device device;
  private final LayerShape shape;
  private final Topology topology;
  private final Stream compute;
  private final Stream a2aIssue;
  private final Stream tpIssue;
  private final Communicator ep;
  private final Communicator tp;
  private final Communicator expertReplicas;
  private final Communicator router;
  private final Communicator cp;
  private final Communicator dense;
  private final Stream cpIssue;
  private final java.util.List<Event> events = new java.util.ArrayList<>();

  /** A rank of the MoE stack alone: no CP, no dense layers. */
  public RankContext(Device device, LayerShape shape, boolean sharedLinks) {
    this(device, shape, sharedLinks, 1, false);
  }

  /**
   * @param contextParallel CP; its ring (and the stream its shifts are issued from) exists when CP
   *     > 1
   * @param denseLayers whether the model has dense layers, whose gradients are summed over the
   *     dense group (the MoE stack alone has none, and creates no such group)
   */
  public RankContext(Device device, LayerShape shape, boolean sharedLinks, int contextParallel,
      boolean denseLayers) {
    this.device = device;
    this.shape = shape;
    this.topology = Topology.of(device.rank(), shape, contextParallel);
    this.compute = device.computeStream();
    this.a2aIssue = device.newStream("a2a-issue");
    this.tpIssue = device.newStream("tp-issue");
    this.ep = device.newCommunicator(topology.epGroupName(), topology.epGroup(), LINKS_EP);
    this.tp = device.newCommunicator(topology.tpGroupName(), topology.tpGroup(), tpLinkSet(sharedLinks));
    int[] replicas = topology.expertReplicaGroup();
    this.expertReplicas = replicas.length > 1
        ? device.newCommunicator(topology.expertReplicaGroupName(), replicas, LINKS_EP) : null;
    int[] routerRanks = topology.routerGroup(shape.sequenceParallel());
    this.router = routerRanks.length > 1
        ? device.newCommunicator(topology.routerGroupName(shape.sequenceParallel()), routerRanks,
            LINKS_EP)
        : null;
    this.cp = contextParallel > 1
        ? device.newCommunicator(topology.cpGroupName(), topology.cpGroup(), LINKS_EP) : null;
    this.cpIssue = contextParallel > 1 ? device.newStream("cp-issue") : null;
    int[] denseRanks = topology.denseGroup();
    this.dense = denseLayers && denseRanks.length > 1
        ? device.newCommunicator(topology.denseGroupName(), denseRanks, LINKS_EP) : null;
  }

  public Device device() {
    return device;
  }

  public LayerShape shape() {
    return shape;
  }

  public Topology topology() {
    return topology;
  }

  public Stream compute() {
    return compute;
  }

  public Stream a2aIssue() {
    return a2aIssue;
  }

  public Stream tpIssue() {
    return tpIssue;
  }

  public Communicator ep() {
    return ep;
  }

  public Communicator tp() {
    return tp;
  }

  /** The group that holds copies of this rank's expert shards, or null when there is none. */
  public Communicator expertReplicas() {
    return expertReplicas;
  }

  /** The group over which router gradients are summed, or null when this rank is alone. */
  public Communicator router() {
    return router;
  }

  /** The CP ring (ranks in CP order), or null without context parallelism. */
  public Communicator cp() {
    return cp;
  }

  /** The stream CP's ring shifts are issued from (waits only), or null without CP. */
  public Stream cpIssue() {
    return cpIssue;
  }

  /** The group over which dense gradients are summed, or null when this rank is alone or there are no dense layers. */
  public Communicator dense() {
    return dense;
  }

  public void label(String label) {
    device.label(label);
  }

  /**
   * A fresh event, kept until {@link #releaseEvents()}: streams may still be waiting on it after the
   * code that issued the wait has moved on, so events live until the step has been synchronized.
   */
  public Event event() {
    Event e = device.newEvent();
    events.add(e);
    return e;
  }

  /** Frees the events of a step; call after {@link Device#synchronize()}. */
  public void releaseEvents() {
    events.forEach(Event::close);
    events.clear();
  }

  /** A compute-dtype (F32) handle on {@code t}: a cast copy for BF16, a second handle otherwise. */
  public Tensor toF32(Stream s, Tensor t) {
    return convert(s, t, DType.F32);
  }

  /**
   * An F32 tensor with {@code t}'s values in a layout GEMMs can flatten (contiguous, or slot-major
   * like {@code t}): a second handle when {@code t} already is one.
   */
  public Tensor contiguousF32(Stream s, Tensor t) {
    if (t.dtype() == DType.F32 && (Views.contiguous(t) || Views.slotMajor(t))) {
      return Views.handle(device, t);
    }
    Tensor out = Views.allocLike(device, DType.F32, t, t.shape()[t.rank() - 1]);
    device.copy(s, t, out);
    return out;
  }

  /** A wire-dtype handle on an F32 tensor: a cast copy for a BF16 wire, a second handle otherwise. */
  public Tensor toWire(Stream s, Tensor t) {
    return convert(s, t, shape.wire());
  }

  public Tensor allocWire(long... dims) {
    return device.alloc(shape.wire(), dims);
  }

  public Tensor alloc(long... dims) {
    return device.alloc(DType.F32, dims);
  }

  private Tensor convert(Stream s, Tensor t, DType to) {
    if (t.dtype() == to) {
      return Views.handle(device, t);
    }
    Tensor out = Views.allocLike(device, to, t, t.shape()[t.rank() - 1]);
    device.copy(s, t, out);
    return out;
  }

  @Override
  public void close() {
    releaseEvents();
    ep.close();
    tp.close();
    if (expertReplicas != null) {
      expertReplicas.close();
    }
    for (Communicator c : new Communicator[] {router, cp, dense}) {
      if (c != null) {
        c.close();
      }
    }
  }
}
