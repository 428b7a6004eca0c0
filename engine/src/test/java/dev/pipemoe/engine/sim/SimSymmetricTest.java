package dev.pipemoe.engine.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.metrics.StepTimes;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.ImprovedSchedule;
import dev.pipemoe.engine.schedule.MindSpeedSchedule;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.schedule.SerialSchedule;
import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import dev.pipemoe.engine.train.RankStep;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * A symmetric simulated fabric (rank 0 standing for all) predicts exactly what the full
 * simulation of every rank does, on layouts whose groups sit alike on the nodes.
 */
class SimSymmetricTest {

  record Case(LayerShape shape, Schedule schedule, HardwareProfile profile) {
    @Override
    public String toString() {
      return shape + " " + schedule.name() + " on " + profile.name() + " nodes of "
          + profile.ranksPerNode();
    }
  }

  static Case regularCase(SplittableRandom r) {
    int tp = Gen.oneOf(r, 1, 2, 4);
    int ep = Gen.oneOf(r, 1, 2, 4);
    int data = ep * Gen.oneOf(r, 1, 2);
    int experts = ep * Gen.oneOf(r, 1, 2);
    int topK = experts == 1 ? 1 : 2;
    boolean sp = tp > 1 && r.nextBoolean();
    LayerShape shape = new LayerShape(1024, 1024, 4096, experts, topK,
        Math.max(4, topK * 1024 / experts), tp, data, ep, sp, r.nextBoolean(), DType.BF16, 0.0);
    // TP inside a node; EP groups (TP x EP consecutive ranks) all inside one, or all across
    int node = Gen.oneOf(r, tp, tp * ep, 2 * tp * ep);
    int n = Gen.oneOf(r, 1, 2, 4);
    boolean ms = sp && r.nextBoolean();
    Schedule schedule = switch (Gen.intIn(r, 0, 2)) {
      case 0 -> new SerialSchedule();
      case 1 -> new MindSpeedSchedule(ms, n);
      default -> new ImprovedSchedule(ms, n, n, 2);
    };
    HardwareProfile profile = HardwareProfile.load(Gen.oneOf(r, "ascend-910c", "h100"))
        .withRanksPerNode(node);
    return new Case(shape, schedule, profile);
  }

  static List<StepTimes> steps(Case c, boolean symmetric) {
    Map<Integer, List<StepTimes>> byRank = new ConcurrentHashMap<>();
    TrainingPlan plan = new TrainingPlan(c.shape(), 1, c.schedule(), 2, 0, 5, 1e-3, true, 1);
    try (SimFabric fabric = new SimFabric(c.shape().worldSize(), c.profile(), false, symmetric)) {
      Trainer.train(fabric, plan, (RankStep s) -> byRank.computeIfAbsent(s.rank(),
          k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(s.times()), () -> false);
    }
    return byRank.get(0);
  }

  @Test
  void rankZeroAloneIsRankZeroAmongAll() {
    Property.forAll(40, SimSymmetricTest::regularCase, c -> {
      assertThat(steps(c, true)).isEqualTo(steps(c, false));
    });
  }

  /**
   * Context parallelism's ring, as the attention issues it: per layer, CP - 1 K/V shifts on a
   * side stream, each block's scores computed while the next block travels, dK/dV shifted back
   * the other way, and a TP all-reduce; ranks are tp + TP (cp + CP dp), TP innermost.
   */
  static List<OpRecord> ring(int tp, int cp, int dp, HardwareProfile profile, boolean symmetric)
      throws Exception {
    int world = tp * cp * dp;
    long tokens = 4096 / cp, hidden = 4096;
    try (SimFabric fabric = new SimFabric(world, profile, false, symmetric)) {
      Map<Integer, List<OpRecord>> byRank = new ConcurrentHashMap<>();
      List<Thread> threads = new java.util.ArrayList<>();
      java.util.concurrent.atomic.AtomicReference<Exception> failure =
          new java.util.concurrent.atomic.AtomicReference<>();
      for (int rank : fabric.localRanks()) {
        threads.add(Thread.ofPlatform().start(() -> {
          try {
            byRank.put(rank, fabric.runRank(rank, () -> {
              Device d = fabric.device(rank);
              int t = rank % tp, c = rank / tp % cp, p = rank / (tp * cp);
              int[] ring = new int[cp], tpGroup = new int[tp];
              for (int i = 0; i < cp; i++) {
                ring[i] = t + tp * (i + cp * p);
              }
              for (int i = 0; i < tp; i++) {
                tpGroup[i] = i + tp * (c + cp * p);
              }
              Communicator cpComm = d.newCommunicator("cp", ring, 0);
              Communicator tpComm = d.newCommunicator("tp", tpGroup, 0);
              Stream compute = d.computeStream(), side = d.newStream("cp-ring");
              Tensor q = d.alloc(DType.F32, tokens, hidden);
              Tensor[] kv = {d.alloc(DType.F32, 2, tokens, hidden),
                  d.alloc(DType.F32, 2, tokens, hidden)};
              Tensor scores = d.alloc(DType.F32, 1, tokens, tokens);
              Tensor x = d.alloc(DType.F32, tokens, hidden);
              for (int layer = 0; layer < 2; layer++) {
                for (int dir : new int[] {1, -1}) {
                  for (int step = 0; step < cp; step++) {
                    Event ready = d.newEvent(), sent = d.newEvent();
                    d.record(ready, compute);
                    d.waitEvent(side, ready);
                    if (step < cp - 1) {
                      d.shift(side, cpComm, dir, kv[step % 2], kv[(step + 1) % 2], sent);
                    }
                    d.gemm(compute, false, true, 1f, d.view(q, 0, new long[] {tokens, hidden},
                        new long[] {hidden, 1}), d.view(kv[step % 2], 0,
                        new long[] {tokens, hidden}, new long[] {hidden, 1}), 0f,
                        d.view(scores, 0, new long[] {tokens, tokens}, new long[] {tokens, 1}));
                    d.causalSoftmax(compute, scores, 0.125f, (c - step) * (int) tokens, scores);
                    if (step < cp - 1) {
                      d.waitEvent(compute, sent);
                    }
                  }
                }
                d.rmsNorm(compute, x, d.alloc(DType.F32, hidden), 1e-5f, x,
                    d.alloc(DType.F32, tokens));
                d.allReduce(compute, tpComm, x, x, null);
              }
              d.synchronize();
              return d.drainTimeline();
            }));
          } catch (Exception e) {
            failure.compareAndSet(null, e);
          }
        }));
      }
      for (Thread th : threads) {
        th.join();
      }
      if (failure.get() != null) {
        throw failure.get();
      }
      return byRank.get(0);
    }
  }

  @Test
  void theContextParallelRingOfShiftsIsSymmetricToo() throws Exception {
    Object[][] cases = {
        {2, 2, 2, "ascend-910c", 16}, {2, 4, 1, "h100", 2}, {1, 4, 2, "h100", 8},
        {4, 2, 1, "ascend-910c", 4}};
    for (Object[] c : cases) {
      int tp = (int) c[0], cp = (int) c[1], dp = (int) c[2];
      HardwareProfile profile = HardwareProfile.load((String) c[3]).withRanksPerNode((int) c[4]);
      List<OpRecord> alone = ring(tp, cp, dp, profile, true);
      assertThat(alone).as("TP %d CP %d DP %d on %s", tp, cp, dp, profile.name())
          .filteredOn(r -> r.op().equals("shift")).hasSize(2 * 2 * (cp - 1))
          .allSatisfy(r -> assertThat(r.bytes()).isEqualTo(2L * 4096 / cp * 4096 * 4));
      assertThat(alone).as("TP %d CP %d DP %d on %s", tp, cp, dp, profile.name())
          .isEqualTo(ring(tp, cp, dp, profile, false));
    }
  }
}
