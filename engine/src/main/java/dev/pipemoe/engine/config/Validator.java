package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;

import dev.pipemoe.engine.config.EngineConfig.Fabric;
import dev.pipemoe.engine.config.EngineConfig.Model;
import dev.pipemoe.engine.config.EngineConfig.Parallel;
import dev.pipemoe.engine.config.EngineConfig.PipeExperts;
import dev.pipemoe.engine.config.EngineConfig.Resources;
import dev.pipemoe.engine.config.EngineConfig.Training;
import dev.pipemoe.engine.config.LayoutRules.Layout;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a {@link JobSpec} into the {@link EngineConfig} the engine will run, or into the rules it
 * breaks: MindSpeed's V1-V11 with MindSpeed's severities and the implied and engine rules of
 * docs/config.md. Every violation is reported in one run; rules see the effective values the rules
 * before them leave (sequence parallelism off at tp = 1, pipe-experts off after V3, V6 or V11), in
 * MindSpeed's order. Never throws for any spec, however malformed: it only returns violations.
 */
public final class Validator {

  private static final JobSpec EMPTY = new JobSpec(null, null, null, null, null, null, null);

  private Validator() {}

  public static Validation validate(JobSpec spec) {
    Findings f = new Findings();
    Inputs in = Inputs.read(spec == null ? EMPTY : spec, f);
    Layout layout = LayoutRules.resolve(in, f);
    PipeExperts pipeExperts = PipeExpertsRules.resolve(in, layout, f);
    FeatureRules.check(in, f);
    EngineConfig.Gpt gpt = GptRules.resolve(in, layout.data(), f);
    Fabric fabric = fabric(in, f);
    if (f.hasErrors()) {
      return new Validation(f.errors(), f.warnings(), null, f.notes());
    }
    Parallel parallel = new Parallel(in.tensor, layout.data(), in.expert, layout.sequenceParallel(), in.context);
    EngineConfig config = new EngineConfig(model(in), parallel, pipeExperts,
        new Training(in.steps, in.warmupSteps, in.seed, in.learningRate), fabric, resources(in, parallel, f), gpt);
    f.note(scheduleNote(config));
    return new Validation(f.errors(), f.warnings(), config, f.notes());
  }

  /**
   * Reads a MindSpeed-style argument string and validates the spec it describes. Problems of the
   * string itself (rule ARGS) come first; when there are errors among them the spec is not
   * validated, as a JSON body that does not parse is not.
   */
  public static Validation validateArgs(String args) {
    MindSpeedArgs.Parsed parsed = MindSpeedArgs.read(args);
    if (!parsed.errors().isEmpty()) {
      return new Validation(parsed.errors(), parsed.warnings(), null, List.of());
    }
    Validation validation = validate(parsed.spec());
    List<Violation> warnings = new ArrayList<>(parsed.warnings());
    warnings.addAll(validation.warnings());
    return new Validation(validation.errors(), warnings, validation.effective(), validation.notes());
  }

  private static Model model(Inputs in) {
    return new Model(in.moeModelType, in.numLayers, in.hiddenSize, in.ffnHiddenSize, in.numExperts, in.topK,
        in.capacityFactor, in.minCapacity, in.swiglu, in.seqLength, in.microBatchSize, in.dtype, in.auxLossCoeff,
        in.architecture);
  }

  /** The profile's device figures, each replaced by the spec's override where given. */
  private static Fabric fabric(Inputs in, Findings f) {
    FabricProfile profile = in.profile;
    if (profile == null) {
      return null;
    }
    if (!profile.modelled()) {
      for (SpecField override : new SpecField[] {BANDWIDTH, LATENCY, CONGESTION, SHARED_LINKS, COMM_RATIO}) {
        if (in.given(override)) {
          f.error(override, "P-FABRIC", Inputs.describe(override) + " = " + in.raw(override) + " overrides a link"
              + " model, but fabric.profile unmodelled has none; choose a device profile such as ascend-910c");
        }
      }
      f.note("fabric unmodelled: collectives cost only their real copy time");
      return Fabric.of(profile);
    }
    if (!f.valid(BANDWIDTH, LATENCY, CONGESTION, COMM_RATIO)) {
      return null;
    }
    Fabric fabric = new Fabric(profile, profile.peakFlopsPerSecond(),
        in.bandwidth != null ? in.bandwidth : profile.bandwidthBytesPerSecond(),
        in.latency != null ? in.latency : profile.latencySeconds(),
        in.congestion != null ? in.congestion : profile.congestion(),
        in.sharedLinks != null ? in.sharedLinks : profile.sharedLinks(),
        in.commRatio != null ? in.commRatio : 0);
    boolean overridden = in.given(BANDWIDTH) || in.given(LATENCY) || in.given(CONGESTION) || in.given(SHARED_LINKS);
    f.note("fabric " + profile.jsonName() + " in device terms (" + (overridden ? "profile with overrides" : "profile")
        + "): peak " + decimal(profile.peakTflops()) + " TFLOPS, " + decimal(fabric.bandwidthBytesPerSecond() / 1e9)
        + " GB/s, latency " + decimal(fabric.latencySeconds() * 1e6) + " us, congestion " + decimal(fabric.congestion())
        + ", " + (fabric.sharedLinks() ? "EP and TP share links" : "EP and TP on separate links")
        + (fabric.commRatio() > 0
            ? "; the engine sets the emulated bandwidth so that communication takes " + decimal(fabric.commRatio())
                + " x computation in the serial schedule (latency keeps the profile's share)"
            : "; the engine scales these to the CPU by its measured GEMM rate"));
    return fabric;
  }

  /** Six significant digits, no exponent, no trailing zeros: for notes people read. */
  private static String decimal(double value) {
    if (!Checks.finite(value)) {
      return Double.toString(value); // a huge override times a unit factor
    }
    return new BigDecimal(value).round(new MathContext(6)).stripTrailingZeros().toPlainString();
  }

  private static Resources resources(Inputs in, Parallel parallel, Findings f) {
    int devices = in.devices != null ? in.devices : parallel.worldSize();
    if (in.devices == null) {
      f.note("resources.devices not given: devices = tensor x " + (parallel.context() == 1 ? "" : "context x ")
          + "data = " + parallel.tensor() + " x " + (parallel.context() == 1 ? "" : parallel.context() + " x ")
          + parallel.data() + " = " + devices);
    }
    return new Resources(in.deviceType, devices);
  }

  private static String scheduleNote(EngineConfig config) {
    if (config.schedule() == ScheduleKind.SERIAL) {
      return "schedule serial: pipe-experts off";
    }
    PipeExperts pe = config.pipeExperts();
    return "schedule " + config.schedule().jsonName() + ": n = nle·N = " + config.localExperts() + "·"
        + pe.multiData() + " = " + config.chunksForward() + " forward chunks, " + config.chunksBackward()
        + " backward, multi-stream " + (pe.multiStream() ? "on" : "off");
  }
}
