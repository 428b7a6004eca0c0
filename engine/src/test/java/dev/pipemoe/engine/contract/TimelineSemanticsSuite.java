package dev.pipemoe.engine.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.ImprovedSchedule;
import dev.pipemoe.engine.schedule.MindSpeedSchedule;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.train.RankStep;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The schedules' semantics, read off timelines (docs/reference.md §4.3-4.4): with a link model that
 * makes every collective last milliseconds, compute is tiny and the order of the collectives is
 * what the schedule says. On the simulated device the timelines are exact and the same on every
 * run; on the native runtime they are real, and the compute's smallness keeps them in order. A
 * subclass names the fabric.
 */
public abstract class TimelineSemanticsSuite {
  /**
   * A fabric of {@code worldSize} ranks with {@link #SLOW_LINKS}: TP groups (ranks 2i, 2i+1) and EP
   * groups on separate links.
   */
  protected abstract Fabric open(int worldSize, LinkModel slowLinks);

  static final Pattern FORWARD_EP = Pattern.compile("(A|CB)\\d+");
  static final Pattern FORWARD_TP = Pattern.compile("(AG|RS)\\d+");

  /** TP = 2, EP = 2, SP, top-2, E = 4 (L = 2): C = 16, N = 2 gives 4 chunks of 8 slots. */
  static final LayerShape SHAPE = new LayerShape(32, 32, 64, 4, 2, 16, 2, 2, 2, true, true,
      DType.F32, 0.0);

  /** About 1 ms of latency and 1-2 ms of transfer per collective; EP and TP on separate links. */
  protected static final LinkModel SLOW_LINKS = new LinkModel(1.0, List.of(
      new LinkModel.Link(0, 2e6, 1e-3), new LinkModel.Link(1, 2e6, 1e-3)));

  List<OpRecord> forwardTimeline(Schedule schedule, int rank) {
    Map<Integer, List<OpRecord>> byRank = new ConcurrentHashMap<>();
    TrainingPlan plan = new TrainingPlan(SHAPE, 1, schedule, 1, 0, 3, 1e-3, false, 1);
    try (Fabric fabric = open(SHAPE.worldSize(), SLOW_LINKS)) {
      Trainer.train(fabric, plan, (RankStep s) -> byRank.put(s.rank(), s.timeline()), () -> false);
    }
    return byRank.get(rank);
  }

  static List<OpRecord> labelled(List<OpRecord> t, Pattern p) {
    return t.stream().filter(r -> r.label() != null && p.matcher(r.label()).matches()
        && r.bytes() > 0).toList();
  }

  static long overlaps(List<OpRecord> a, List<OpRecord> b) {
    return a.stream().mapToLong(x -> b.stream().filter(x::overlaps).count()).sum();
  }

  /**
   * MindSpeed's multi-stream mode chains every forward collective but one pair: RS(q) is issued
   * from the compute stream and ordered only behind the TP queue, and for the last chunk no
   * prefetched all-gather sits in front of it, so RS(n-1) may run beside CB(n-2) when expert n-1 is
   * shorter than RS(n-2) (pipe_experts.py, forward, multi_stream branch). Everything else is one
   * chain.
   */
  @Test
  public void mindspeedMultiStreamChainsEveryForwardCollectiveButTheLastReduceScatter() {
    for (int rank = 0; rank < SHAPE.worldSize(); rank += 3) {
      List<OpRecord> t = forwardTimeline(new MindSpeedSchedule(true, 2), rank);
      List<OpRecord> ep = labelled(t, FORWARD_EP);
      List<OpRecord> tp = labelled(t, FORWARD_TP);
      assertThat(ep).hasSize(8); // A0-3, CB0-3
      assertThat(tp).hasSize(8); // AG0-3, RS0-3
      List<OpRecord> tpButLast = tp.stream().filter(r -> !r.label().equals("RS3")).toList();
      assertThat(overlaps(ep, tpButLast)).as("EP/TP overlaps on rank %d", rank).isZero();
      List<OpRecord> epButPenultimateCombine = ep.stream().filter(r -> !r.label().equals("CB2"))
          .toList();
      assertThat(overlaps(epButPenultimateCombine, tp)).isZero();
    }
  }

  @Test
  public void improvedMultiStreamIsOneChainWithoutExceptions() {
    for (int rank = 0; rank < SHAPE.worldSize(); rank += 3) {
      List<OpRecord> t = forwardTimeline(new ImprovedSchedule(true, 2, 2, 2), rank);
      List<OpRecord> ep = labelled(t, FORWARD_EP);
      List<OpRecord> tp = labelled(t, FORWARD_TP);
      assertThat(ep).hasSize(8);
      assertThat(tp).hasSize(8);
      assertThat(overlaps(ep, tp)).as("EP/TP overlaps on rank %d", rank).isZero();
    }
  }

  @Test
  public void improvedDefaultModeOverlapsEpAndTp() {
    List<OpRecord> t = forwardTimeline(new ImprovedSchedule(false, 2, 2, 1), 0);
    assertThat(overlaps(labelled(t, FORWARD_EP), labelled(t, FORWARD_TP))).isPositive();
  }

  @Test
  public void defaultModeLetsEpAndTpCollectivesRunAtTheSameTime() {
    List<OpRecord> t = forwardTimeline(new MindSpeedSchedule(false, 2), 0);
    assertThat(overlaps(labelled(t, FORWARD_EP), labelled(t, FORWARD_TP))).isPositive();
  }

  @Test
  public void inDefaultModeExpertQStartsOnlyAfterDispatchQPlusOneEnds() {
    for (int rank = 0; rank < SHAPE.worldSize(); rank++) {
      List<OpRecord> t = forwardTimeline(new MindSpeedSchedule(false, 2), rank);
      for (int q = 0; q < 3; q++) {
        long expertStart = first(t, "E" + q, "compute").startNanos();
        long nextDispatchEnd = first(t, "A" + (q + 1), null).endNanos();
        assertThat(expertStart).as("E%d vs A%d on rank %d", q, q + 1, rank)
            .isGreaterThanOrEqualTo(nextDispatchEnd);
      }
    }
  }

  @Test
  public void combineOfChunkQIsIssuedOnlyAfterExpertQPlusOne() {
    List<OpRecord> t = forwardTimeline(new MindSpeedSchedule(false, 2), 1);
    for (int q = 0; q < 3; q++) {
      long combineStart = first(t, "CB" + q, null).startNanos();
      String nextExpert = "E" + (q + 1);
      long nextExpertEnd = t.stream().filter(r -> nextExpert.equals(r.label())
          && r.stream().equals("compute")).mapToLong(OpRecord::endNanos).max().orElseThrow();
      assertThat(combineStart).isGreaterThanOrEqualTo(nextExpertEnd);
    }
  }

  private static OpRecord first(List<OpRecord> t, String label, String stream) {
    return t.stream().filter(r -> label.equals(r.label())
        && (stream == null ? r.bytes() > 0 : r.stream().equals(stream)))
        .min(java.util.Comparator.comparingLong(OpRecord::startNanos)).orElseThrow(
            () -> new AssertionError("no op labelled " + label + " on " + stream));
  }
}
