package dev.pipemoe.worker.run;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.Validation;
import dev.pipemoe.engine.config.Validator;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.engine.protocol.AttemptStatus.State;
import dev.pipemoe.engine.train.JobRunner;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import dev.pipemoe.worker.spool.Spool;
import dev.pipemoe.worker.spool.SpoolFile;
import dev.pipemoe.worker.system.WorkerMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one assignment on the engine, without talking to the service: validates the spec with
 * this worker's engine (its effective config is what runs), measures and calibrates, trains with
 * one thread per rank, turns every rank's step into a {@link StepMetrics} record appended to the
 * attempt's spool file, and decides the final status. Stops between steps when the
 * {@link AttemptControl} asks.
 *
 * <p>Failure reasons: INVALID_SPEC when this engine refuses the spec or derives another rank count
 * (running it again fails again); DEVICE_ERROR when the devices, the worker or its spool failed, or
 * the job does not fit this worker (another try may succeed); ENGINE_ERROR for anything else the
 * engine threw; SHUTDOWN when the worker stopped mid-run.
 */
public final class EngineRun {
  private static final Logger log = LoggerFactory.getLogger(EngineRun.class);

  /**
   * @param status what to report; null when the attempt was lost (nothing is reported)
   */
  public record Result(AttemptStatus status, int stepsCompleted) {}

  private final Fabric.Factory fabrics;
  private final String deviceType;
  private final int devices;
  private final Spool spool;
  private final WorkerMetrics metrics;

  public EngineRun(Fabric.Factory fabrics, String deviceType, int devices, Spool spool,
      WorkerMetrics metrics) {
    this.fabrics = fabrics;
    this.deviceType = deviceType;
    this.devices = devices;
    this.spool = spool;
    this.metrics = metrics;
  }

  public Result run(Assignment a, SpoolFile file, AttemptControl control) {
    Validation v = Validator.validate(a.spec());
    if (!v.ok()) {
      return failed("INVALID_SPEC", "this worker's engine refuses the spec: " + v.errors().stream()
          .map(e -> e.rule() + " at " + e.pointer() + ": " + e.message())
          .collect(Collectors.joining("; ")), 0);
    }
    EngineConfig config = v.effective();
    if (config.worldSize() != a.ranks()) {
      return failed("INVALID_SPEC", "the assignment has " + a.ranks() + " ranks, but this worker's"
          + " engine derives " + config.worldSize() + " (tensor " + config.parallel().tensor()
          + " x context " + config.parallel().context() + " x data " + config.parallel().data()
          + ") from the spec", 0);
    }
    String wanted = config.resources().deviceType().jsonName();
    if (a.ranks() > devices || !wanted.equals(deviceType)) {
      return failed("DEVICE_ERROR", "the job needs " + a.ranks() + " " + wanted + " devices; this"
          + " worker has " + devices + " " + deviceType, 0);
    }
    RunSummary summary = new RunSummary(config.worldSize(), config.training().warmupSteps(),
        metrics::stepCompleted);
    if (control.stopRequested()) {  // stopped before it began: skip the calibration too
      return finish(config.training().steps(), control, new Trainer.Outcome(0, true), summary);
    }
    Trainer.Outcome outcome;
    TrainingPlan plan;
    try {
      JobRunner.Prepared prepared = JobRunner.prepare(config, fabrics);
      plan = prepared.plan();
      log.info("attempt {}: {} ranks, schedule {}, {} steps; calibrated: expert GEMM {} GFLOP/s"
              + " per rank, communication {} x compute", AttemptControl.name(a.ref()),
          config.worldSize(), config.schedule().jsonName(), plan.steps(),
          String.format("%.1f", prepared.gemmFlopsPerSecond() / 1e9),
          String.format("%.3f", prepared.calibration().commRatio()));
      outcome = JobRunner.run(prepared, fabrics, step -> {
        StepMetrics m = StepMetrics.of(step, plan);
        try {
          spool.append(file, m);
        } catch (IOException e) {
          throw new UncheckedIOException("spool " + file + ": " + e.getMessage(), e);
        }
        summary.add(m);
      }, control::stopRequested);
    } catch (RuntimeException | Error e) {
      if (control.lost()) {
        return new Result(null, summary.stepsCompleted());
      }
      String reason = e instanceof DeviceException || e instanceof UncheckedIOException
          ? "DEVICE_ERROR" : "ENGINE_ERROR";
      log.error("attempt {} failed after {} steps ({})", AttemptControl.name(a.ref()),
          summary.stepsCompleted(), reason, e);
      return failed(reason, describe(e), summary.stepsCompleted());
    }
    return finish(plan.steps(), control, outcome, summary);
  }

  private static Result finish(int planned, AttemptControl control, Trainer.Outcome outcome,
      RunSummary summary) {
    int steps = outcome.stepsCompleted();
    if (!outcome.cancelled()) {
      return new Result(new AttemptStatus(State.SUCCEEDED, null, "completed " + steps + " steps",
          summary.summary()), steps);
    }
    return switch (control.stop()) {
      case LOST -> new Result(null, steps);
      case CANCEL -> new Result(new AttemptStatus(State.CANCELLED, "CANCEL_REQUESTED",
          "cancelled after " + steps + " of " + planned + " steps", summary.summary()),
          steps);
      case SHUTDOWN, NONE -> failed("SHUTDOWN", "the worker shut down after " + steps + " of "
          + planned + " steps; the job may be retried", steps);
    };
  }

  private static Result failed(String reason, String message, int steps) {
    return new Result(new AttemptStatus(State.FAILED, reason, message, null), steps);
  }

  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(e.getClass().getSimpleName());
    if (e.getMessage() != null) {
      sb.append(": ").append(e.getMessage());
    }
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
        sb.append(" (caused by ").append(c.getClass().getSimpleName()).append(": ")
            .append(c.getMessage()).append(')');
      }
    }
    return sb.length() <= 2000 ? sb.toString() : sb.substring(0, 2000) + "...";
  }
}
