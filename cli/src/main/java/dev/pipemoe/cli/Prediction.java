package dev.pipemoe.cli;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.JobSpec;
import dev.pipemoe.engine.config.Validator;
import dev.pipemoe.engine.metrics.Flops;
import dev.pipemoe.engine.metrics.JobStepTimes;
import dev.pipemoe.engine.metrics.StepTimes;
import dev.pipemoe.engine.sim.HardwareProfile;
import dev.pipemoe.engine.sim.SimFabric;
import dev.pipemoe.engine.train.JobRunner;
import dev.pipemoe.engine.train.RankStep;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * A job's figures predicted on the simulated device (docs/engine.md, "Simulated device"): the job
 * run for a few steps on a {@link SimFabric} of the profile, shapes only, on its virtual clock, so
 * that the same job and profile give the same figures on every run and machine.
 *
 * <p>A step lasts as long as its slowest rank; busy and exposed times are the ranks' mean; each
 * figure is the mean over the steps after warm-up, as the worker's bench and the service's summary
 * aggregate (docs/cli.md, "predict").
 *
 * @param schedule the schedule's name ({@code serial}, {@code mindspeed ms N=2}, ...)
 * @param measuredSteps the steps the means are over
 */
record Prediction(String schedule, int steps, int warmupSteps, int measuredSteps,
    double stepSeconds, double tflopsPerDevice, double exposedSeconds, double computeBusySeconds,
    double epBusySeconds, double tpBusySeconds) {

  double exposedShare() {
    return exposedSeconds / stepSeconds;
  }

  /** This job's speed-up over {@code serial}: t_serial / t - 1. */
  double gainOver(Prediction serial) {
    return serial.stepSeconds / stepSeconds - 1;
  }

  /** Runs {@code config} for {@code steps} steps on the simulated {@code profile}. */
  static Prediction of(EngineConfig config, HardwareProfile profile, int steps) {
    TrainingPlan plan = JobRunner.plan(config).withSteps(steps);
    TreeMap<Integer, List<StepTimes>> byStep = new TreeMap<>();
    int world = plan.shape().worldSize();
    try (SimFabric fabric = new SimFabric(world, profile, false)) {
      Trainer.train(fabric, plan, (RankStep s) -> {
        synchronized (byStep) {  // every rank reports from its own thread
          byStep.computeIfAbsent(s.step(), k -> new ArrayList<>()).add(s.times());
        }
      }, () -> false);
    }
    List<JobStepTimes> measured = byStep.tailMap(plan.warmupSteps()).values().stream()
        .map(JobStepTimes::of).toList();
    if (measured.isEmpty()) {
      throw new IllegalStateException("the simulation reported no step after warm-up");
    }
    double step = mean(measured, t -> t.stepNanos());
    return new Prediction(plan.schedule().name(), plan.steps(), plan.warmupSteps(),
        measured.size(), step / 1e9,
        Flops.perRankStep(plan.shape(), plan.layers()).model() / (step / 1e9) / 1e12,
        mean(measured, JobStepTimes::exposedNanos) / 1e9,
        mean(measured, JobStepTimes::computeBusyNanos) / 1e9,
        mean(measured, JobStepTimes::epBusyNanos) / 1e9,
        mean(measured, JobStepTimes::tpBusyNanos) / 1e9);
  }

  /** The same job with pipe-experts off: the serial baseline a prediction is compared with. */
  static EngineConfig serial(JobSpec spec) {
    JobSpec off = new JobSpec(spec.model(), spec.parallel(),
        new JobSpec.PipeExpertsSpec(false, null, null, null, null, null), spec.training(),
        spec.fabric(), spec.resources(), spec.mindspeed());
    return Validator.validate(off).orThrow();
  }

  private static double mean(List<JobStepTimes> steps, ToDoubleFunction<JobStepTimes> f) {
    return steps.stream().mapToDouble(f).average().orElseThrow();
  }
}
