package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A simulated fabric: {@code worldSize} devices of one {@link HardwareProfile}, {@code
 * ranksPerNode} to a node, on one {@link VirtualClock} (docs/engine.md, "Simulated device").
 * Groups whose members sit in one node move their bytes at the profile's intra-node bandwidth, the
 * others at its inter-node bandwidth; on separate link sets, unless the profile has unified links
 * (910C), which carry both on one link set so that EP and TP transfers share it: what
 * multi-stream exists to avoid.
 *
 * <p>The {@code linkSet} a caller passes to {@code newCommunicator} is the emulated native fabric's
 * business; here the topology decides.
 */
public final class SimFabric implements Fabric {
  /** Link set of intra-node traffic, and of all traffic on unified links. */
  static final int INTRA = 0;
  static final int INTER = 1;

  final VirtualClock clock;
  final CostModel cost;
  final boolean numerics;
  final boolean symmetric;
  private final HardwareProfile profile;
  private final SimDevice[] devices;
  private final Map<String, List<SimGroup>> groups = new HashMap<>();

  /**
   * @param numerics whether devices also compute values (small shapes, tests); otherwise tensors
   *     carry shape and dtype only and nothing is allocated
   */
  public SimFabric(int worldSize, HardwareProfile profile, boolean numerics) {
    this(worldSize, profile, numerics, false);
  }

  /**
   * @param symmetric simulate rank 0 alone, standing for every rank: valid when all ranks issue
   *     the same ops at the same times and their groups sit alike on the nodes (every TP group
   *     inside a node or every one across, the same for EP and the gradient groups); then a
   *     collective starts when rank 0 arrives, and rank 0's links carry what every rank's do. It
   *     divides the work by the world size; cost only
   */
  public SimFabric(int worldSize, HardwareProfile profile, boolean numerics, boolean symmetric) {
    if (worldSize < 1) {
      throw new IllegalArgumentException("worldSize must be >= 1, was " + worldSize);
    }
    if (symmetric && numerics) {
      throw new IllegalArgumentException("a symmetric simulated fabric cannot compute values");
    }
    this.profile = profile;
    this.numerics = numerics;
    this.symmetric = symmetric;
    this.cost = new CostModel(profile);
    this.clock = new VirtualClock(new FluidModel(profile.congestion(),
        new double[] {profile.intra().bandwidth(), profile.inter().bandwidth()}),
        120);
    this.devices = new SimDevice[worldSize];
    for (int r = 0; r < worldSize; r++) {
      devices[r] = new SimDevice(this, r);
    }
  }

  /** Opens simulated fabrics of one profile (cost only), for code that opens fabrics by size. */
  public static Fabric.Factory factory(HardwareProfile profile) {
    return (worldSize, linkModel) -> new SimFabric(worldSize, profile, false);
  }

  public HardwareProfile profile() {
    return profile;
  }

  @Override
  public int worldSize() {
    return devices.length;
  }

  @Override
  public Device device(int rank) {
    return devices[rank];
  }

  /** The profile's links as a link model: set 0 intra-node (or unified), set 1 inter-node. */
  @Override
  public LinkModel linkModel() {
    HardwareProfile.Link intra = profile.intra();
    HardwareProfile.Link inter = profile.inter();
    return new LinkModel(profile.congestion(), profile.unifiedLinks()
        ? List.of(new LinkModel.Link(INTRA, intra.bandwidth(), intra.latency()))
        : List.of(new LinkModel.Link(INTRA, intra.bandwidth(), intra.latency()),
            new LinkModel.Link(INTER, inter.bandwidth(), inter.latency())));
  }

  private boolean ranksAnnounced;

  /** The trainer runs every rank in a thread of its own: the first to start announces them all. */
  /** Rank 0 alone on a symmetric fabric, else all. */
  @Override
  public List<Integer> localRanks() {
    return symmetric ? List.of(0) : Fabric.super.localRanks();
  }

  @Override
  public <T> T runRank(int rank, HostTask<T> body) throws Exception {
    synchronized (this) {
      if (!ranksAnnounced) {
        ranksAnnounced = true;
        clock.expect(localRanks().size());
      }
    }
    return clock.run(body::call);
  }

  @Override
  public HostBarrier newHostBarrier(int parties, Runnable action) {
    return clock.new Barrier(parties, action) {
      @Override
      public void await(int rank) throws Exception {
        devices[rank].joinClock(arrive());
      }
    };
  }

  boolean spansNodes(int[] ranks) {
    int node = ranks[0] / profile.ranksPerNode();
    for (int r : ranks) {
      if (r / profile.ranksPerNode() != node) {
        return true;
      }
    }
    return false;
  }

  /** The instance of group (name, ranks) that member {@code index} joins; call under the lock. */
  SimGroup join(String name, int[] ranks, int index) {
    List<SimGroup> instances = groups.computeIfAbsent(name, n -> new ArrayList<>());
    for (SimGroup g : instances) {
      if (Arrays.equals(g.ranks, ranks) && !g.joined[index]) {
        g.joined[index] = true;
        return g;
      }
    }
    boolean inter = spansNodes(ranks);
    int linkSet = inter && !profile.unifiedLinks() ? INTER : INTRA;
    double bandwidth = (inter ? profile.inter() : profile.intra()).bandwidth();
    SimGroup g = new SimGroup(name, ranks.clone(), linkSet, bandwidth, symmetric);
    g.joined[index] = true;
    instances.add(g);
    return g;
  }

  @Override
  public void close() {
    for (SimDevice d : devices) {
      d.close();
    }
  }
}
