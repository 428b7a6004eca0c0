package dev.pipemoe.worker.run;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.AttemptStatus;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An attempt's summary, computed from the very {@link StepMetrics} records it ships, with the
 * bench's conventions (docs/engine.md): a step of the job lasts as long as its slowest rank, and
 * warm-up steps stay out of the averages.
 *
 * <ul>
 *   <li>meanStepSeconds: the mean over measured steps of the slowest rank's step time;
 *   <li>tflopsPerDevice (hardware likewise): a device's FLOPs per step (each record's TFLOP/s x its
 *       step time; every rank does the same work) over meanStepSeconds;
 *   <li>exposedCommShare: the ranks' mean exposed communication per step, averaged over measured
 *       steps, over meanStepSeconds;
 *   <li>tokensPerSecond: the job's tokens per step (the sum over ranks of each record's tokens/s x
 *       its step time) over meanStepSeconds;
 *   <li>finalLoss: the ranks' mean loss in the last completed step;
 *   <li>droppedTokens: dropped routing choices, summed over the ranks of the measured steps.
 * </ul>
 *
 * Without a measured step (a run cancelled during warm-up) the averages are 0. Records arrive from
 * the rank threads, and a step's records all arrive before the next step starts (the trainer's
 * barrier), so only the steps in progress are held.
 */
public final class RunSummary {
  private final int world;
  private final int warmupSteps;
  private final Map<Integer, StepAcc> open = new HashMap<>();
  private final Runnable onStepComplete;
  private int stepsCompleted;
  private int measured;
  private double stepSeconds;
  private double modelFlops;
  private double hardwareFlops;
  private double exposedSeconds;
  private double tokens;
  private long dropped;
  private int lastStep = -1;
  private double lastLoss;

  public RunSummary(int world, int warmupSteps, Runnable onStepComplete) {
    this.world = world;
    this.warmupSteps = warmupSteps;
    this.onStepComplete = onStepComplete;
  }

  public void add(StepMetrics m) {
    boolean complete;
    synchronized (this) {
      StepAcc acc = open.computeIfAbsent(m.step(), s -> new StepAcc());
      acc.add(m);
      complete = acc.ranks == world;
      if (complete) {
        open.remove(m.step());
        close(m.step(), acc);
      }
    }
    if (complete) {
      onStepComplete.run();
    }
  }

  private void close(int step, StepAcc acc) {
    stepsCompleted++;
    if (step > lastStep) {
      lastStep = step;
      lastLoss = acc.loss / world;
    }
    if (step < warmupSteps) {
      return;
    }
    measured++;
    stepSeconds += acc.maxStepSeconds;
    modelFlops += acc.modelTflop / world;
    hardwareFlops += acc.hardwareTflop / world;
    exposedSeconds += acc.exposedSeconds / world;
    tokens += acc.tokens;
    dropped += acc.dropped;
  }

  public synchronized int stepsCompleted() {
    return stepsCompleted;
  }

  /** The summary so far; null before the first complete step. */
  public synchronized AttemptStatus.Summary summary() {
    if (stepsCompleted == 0) {
      return null;
    }
    if (measured == 0) {
      return new AttemptStatus.Summary(stepsCompleted, 0, 0, 0, 0, 0, 0, lastLoss, 0);
    }
    double meanStep = stepSeconds / measured;
    return new AttemptStatus.Summary(stepsCompleted, measured, meanStep,
        perSecond(modelFlops / measured, meanStep), perSecond(hardwareFlops / measured, meanStep),
        perSecond(exposedSeconds / measured, meanStep), perSecond(tokens / measured, meanStep),
        lastLoss, dropped);
  }

  /** The summary in one log line. */
  public static String describe(AttemptStatus.Summary s) {
    return String.format(Locale.ROOT, "%d steps (%d measured), %.2f ms/step,"
            + " %.4g TFLOP/s per device (hardware %.4g), exposed communication %.1f%%,"
            + " %.0f tokens/s, final loss %.5g, %d dropped", s.stepsCompleted(), s.measuredSteps(),
        s.meanStepSeconds() * 1e3, s.tflopsPerDevice(), s.hardwareTflopsPerDevice(),
        100 * s.exposedCommShare(), s.tokensPerSecond(), s.finalLoss(), s.droppedTokens());
  }

  private static double perSecond(double amount, double seconds) {
    return seconds > 0 ? amount / seconds : 0;
  }

  /** One step's records, summed over ranks. */
  private static final class StepAcc {
    int ranks;
    double maxStepSeconds;
    double modelTflop;
    double hardwareTflop;
    double exposedSeconds;
    double tokens;
    double loss;
    long dropped;

    void add(StepMetrics m) {
      ranks++;
      maxStepSeconds = Math.max(maxStepSeconds, m.stepSeconds());
      modelTflop += m.tflopsPerDevice() * m.stepSeconds();
      hardwareTflop += m.hardwareTflopsPerDevice() * m.stepSeconds();
      exposedSeconds += m.exposedCommSeconds();
      tokens += m.tokensPerSecond() * m.stepSeconds();
      loss += m.loss();
      dropped += m.droppedTokens();
    }
  }
}
