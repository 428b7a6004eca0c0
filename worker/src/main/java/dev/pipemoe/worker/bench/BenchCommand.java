package dev.pipemoe.worker.bench;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.JobSpec;
import dev.pipemoe.engine.config.MindSpeedArgs;
import dev.pipemoe.engine.config.Validation;
import dev.pipemoe.engine.config.Validator;
import dev.pipemoe.engine.config.Violation;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.metrics.ChromeTrace;
import dev.pipemoe.engine.metrics.Flops;
import dev.pipemoe.engine.train.Calibration;
import dev.pipemoe.engine.train.JobRunner;
import dev.pipemoe.engine.train.Probe;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import dev.pipemoe.engine.sim.HardwareProfile;
import dev.pipemoe.worker.run.CpuProfile;
import dev.pipemoe.worker.run.FabricChoice;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench [MindSpeed-style flags] [--device native|sim:PROFILE] [--ranks-per-node N]
 * [--steps K] [--grid] [--verify] [--json FILE] [--trace DIR]}: runs the engine without a service
 * and prints a table of TFLOPs per device, the speed-up over serial and how much communication
 * stayed exposed.
 *
 * <p>On the native runtime (the default) every figure is measured on this machine; all rows share
 * one calibration (the GEMM rate is measured once), so they differ only by their schedule. On a
 * simulated device ({@code --device sim:ascend-910c}) every figure is a prediction from the
 * profile, the same on every run. {@code --grid} runs serial and every pipe-experts combination of
 * multi-stream x N in {1, 2, 4} for both families, skipping what validation forbids or switches off.
 */
public final class BenchCommand {
  private BenchCommand() {}

  /** Parsed command line. */
  record Options(String jobArgs, Integer steps, boolean grid, boolean verify, Path json,
      Path traceDir, FabricChoice device, boolean speed, boolean compareNative) {}

  public static int run(String[] argv, PrintStream out, PrintStream err) {
    Options o;
    try {
      o = options(argv);
    } catch (IllegalArgumentException e) {
      err.println("bench: " + e.getMessage());
      err.println("usage: bench [MindSpeed-style flags] [--device native|sim:PROFILE]"
          + " [--ranks-per-node N] [--steps K] [--grid] [--verify] [--json FILE] [--trace DIR]"
          + " [--speed] [--compare-native]");
      return 2;
    }
    MindSpeedArgs.Parsed parsed = MindSpeedArgs.read(o.jobArgs());
    if (!parsed.errors().isEmpty()) {
      parsed.errors().forEach(v -> err.println("error: " + describe(v)));
      return 2;
    }
    JobSpec spec = o.steps() == null ? parsed.spec() : Variants.withSteps(parsed.spec(), o.steps());
    Validation base = Validator.validate(spec);
    parsed.warnings().forEach(v -> err.println("warning: " + describe(v)));
    base.warnings().forEach(v -> err.println("warning: " + describe(v)));
    if (!base.ok()) {
      base.errors().forEach(v -> err.println("error: " + describe(v)));
      return 2;
    }
    if (o.compareNative() && !o.device().measuredOnStart()) {
      err.println("bench: --compare-native holds the measured cpu profile against the native"
          + " runtime: add --device sim:cpu");
      return 2;
    }
    if (o.speed()) {
      if (!o.device().simulated()) {
        err.println("bench: --speed measures the simulated device: add --device sim:PROFILE");
        return 2;
      }
      SimSpeed.run(base.effective(), o.device(), out);
      return 0;
    }
    List<Variants.Variant> variants = o.grid() ? Variants.grid(spec)
        : Variants.single(spec, base.effective());
    try {
      List<BenchRow> rows = bench(base.effective(), variants, o, out, err);
      if (o.json() != null) {
        Files.writeString(o.json(), BenchTable.json(rows));
        err.println("wrote " + o.json());
      }
      return 0;
    } catch (IOException e) {
      err.println("bench: " + e.getMessage());
      return 1;
    }
  }

  private static List<BenchRow> bench(EngineConfig first, List<Variants.Variant> variants,
      Options o, PrintStream out, PrintStream err) throws IOException {
    FabricChoice device = o.device();
    JobRunner.Prepared nativeRun = null;
    CpuProfile.Measured measured = null;
    if (device.measuredOnStart()) {
      // the native job's calibration gives the links; the micro-benchmarks the compute figures
      Fabric.Factory nativeFabrics = FabricChoice.of(FabricChoice.NATIVE).fabrics();
      nativeRun = JobRunner.prepare(first, nativeFabrics);
      measured = CpuProfile.measure(nativeFabrics, first.worldSize());
      device = device.withProfile(CpuProfile.profile(device.profile(), measured,
          nativeRun.linkModel(), first.parallel().tensor(), first.worldSize()));
    }
    Fabric.Factory fabrics = device.fabrics();
    JobRunner.Prepared calibration = device.simulated() ? simulated(first, device)
        : JobRunner.prepare(first, fabrics);
    out.println(header(first, calibration, device));
    if (measured != null) {
      LinkModel lm = nativeRun.linkModel();
      out.println(measured.describe() + "; links: the native job's"
          + (lm.links().isEmpty() ? " (unmodelled: collectives cost their launch)" : links(lm)));
    }
    List<Probe> serialProbe = null;
    List<BenchRow> rows = new ArrayList<>();
    List<NativeComparison.Line> comparison = new ArrayList<>();
    BenchRow serial = null;
    for (int i = 0; i < variants.size(); i++) {
      Variants.Variant v = variants.get(i);
      TrainingPlan plan = JobRunner.plan(v.config());
      StepStats stats = runRow(plan, calibration, fabrics,
          new Progress(err, i + 1, variants.size(), v.name(), plan.steps()));
      if (o.compareNative()) {
        StepStats measuredStats = runRow(plan, nativeRun,
            FabricChoice.of(FabricChoice.NATIVE).fabrics(),
            new Progress(err, i + 1, variants.size(), v.name() + " native", plan.steps()));
        comparison.add(new NativeComparison.Line(v.name(),
            BenchTable.meanStepMillis(measuredStats), BenchTable.meanStepMillis(stats),
            measuredStats.opClassMillis(), stats.opClassMillis()));
      }
      Double error = null;
      if (o.verify() && !v.isSerial()) {
        if (serialProbe == null) {
          serialProbe = probe(device.values(), JobRunner.plan(variants.get(0).config()));
        }
        error = Probe.maxRelativeError(serialProbe, probe(device.values(), plan));
      }
      BenchRow row = BenchTable.row(v, stats, Flops.perRankStep(plan), plan.gpt() != null,
          !device.simulated(), serial, error);
      if (v.isSerial()) {
        serial = row;
      }
      rows.add(row);
      if (o.traceDir() != null) {
        Files.createDirectories(o.traceDir());
        Path file = o.traceDir().resolve(v.fileName() + ".trace.json");
        var timelines = stats.lastTimelines();
        long origin = timelines.values().stream().flatMap(List::stream)
            .mapToLong(r -> r.startNanos()).min().orElse(0);
        Files.writeString(file, ChromeTrace.json(timelines, origin));
      }
    }
    out.println(BenchTable.text(rows));
    out.print(BenchTable.wholeModelText(rows));
    if (o.compareNative()) {
      out.println("predicted on sim:cpu against measured on the native runtime (op classes: the"
          + " sum of their ops' durations in a rank's step, mean over ranks and steps):");
      out.println(NativeComparison.text(comparison));
    }
    return rows;
  }

  /** Runs one row; every row shares the first variant's calibration: only the schedule differs. */
  private static StepStats runRow(TrainingPlan plan, JobRunner.Prepared calibration,
      Fabric.Factory fabrics, Progress progress) {
    StepStats stats = new StepStats(plan.warmupSteps());
    JobRunner.run(new JobRunner.Prepared(plan, calibration.calibration(),
        calibration.gemmFlopsPerSecond()), fabrics, s -> {
          stats.add(s);
          progress.onStep(s);
        }, () -> false);
    progress.done();
    return stats;
  }

  private static List<Probe> probe(Fabric.Factory fabrics, TrainingPlan plan) {
    try (Fabric fabric = fabrics.open(plan.shape().worldSize(), LinkModel.unmodelled())) {
      return Trainer.probe(fabric, plan);
    }
  }

  /** A simulated device needs no calibration: its links are the profile's. */
  private static JobRunner.Prepared simulated(EngineConfig c, FabricChoice device) {
    try (Fabric f = device.fabrics().open(1, LinkModel.unmodelled())) {
      return new JobRunner.Prepared(JobRunner.plan(c),
          new Calibration.Result(f.linkModel(), 0, 1), device.profile().peakFlops());
    }
  }

  private static String header(EngineConfig c, JobRunner.Prepared p, FabricChoice device) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("shape: S=%d tokens/rank, M=%d, F=%d, E=%d, top-%d, C=%d, %s, %s,"
            + " %d layer(s); TP=%d%s DP=%d EP=%d%s; %d ranks%n",
        c.tokensPerRank(), c.model().hiddenSize(), c.model().ffnHiddenSize(),
        c.model().numExperts(), c.model().topK(), c.capacity(),
        c.model().swiglu() ? "SwiGLU" : "GELU", c.model().dtype(), c.model().numLayers(),
        c.parallel().tensor(), c.parallel().context() > 1 ? " CP=" + c.parallel().context() : "",
        c.parallel().data(), c.parallel().expert(),
        c.parallel().sequenceParallel() ? " SP" : "", c.worldSize()));
    EngineConfig.Gpt g = c.gpt();
    if (g != null) {
      sb.append(String.format("model: gpt, %d heads, vocabulary %d (padded %d), %d micro-batch(es) of"
              + " %d, %s%s%s; data: %s%n", g.numAttentionHeads(), g.vocabSize(), g.paddedVocabSize(),
          g.microBatches(), c.model().microBatchSize(), "seq " + c.model().seqLength(),
          g.recompute() ? ", full recompute" : "", g.distributedOptimizer() ? ", distributed optimizer" : "",
          g.dataPath() != null ? g.dataPath() : "generated corpus"));
    }
    if (device.simulated()) {
      HardwareProfile hw = device.profile();
      sb.append(String.format(Locale.ROOT, "device: simulated %s (%s); PREDICTED figures, not"
              + " measured%n", hw.name(), hw.description()));
      sb.append("topology: ").append(hw.topology(c.worldSize(), ""));
      return sb.toString();
    }
    Calibration.Result cal = p.calibration();
    sb.append(String.format("calibration: expert GEMM %.1f GFLOP/s per rank; fabric %s,"
            + " communication %.3f x compute (%s), time dilation %.0f",
        p.gemmFlopsPerSecond() / 1e9, c.fabric().profile().jsonName(), cal.commRatio(),
        c.fabric().commRatio() > 0 ? "as asked" : "the reference layer on the device",
        cal.dilation()));
    return sb.append(links(p.linkModel())).toString();
  }

  private static String links(LinkModel lm) {
    StringBuilder sb = new StringBuilder();
    for (LinkModel.Link l : lm.links()) {
      sb.append(String.format("; link %d: %.2f MB/s, latency %.3f ms", l.id(),
          l.bandwidthBytesPerSecond() / 1e6, l.latencySeconds() * 1e3));
    }
    if (!lm.links().isEmpty()) {
      sb.append(String.format("; congestion %.2f", lm.congestion()));
    }
    return sb.toString();
  }

  static Options options(String[] argv) {
    List<String> job = new ArrayList<>();
    Integer steps = null;
    boolean grid = false;
    boolean verify = false;
    boolean speed = false;
    boolean compareNative = false;
    Path json = null;
    Path trace = null;
    FabricChoice device = FabricChoice.of(FabricChoice.NATIVE);
    Integer ranksPerNode = null;
    for (int i = 0; i < argv.length; i++) {
      switch (argv[i]) {
        case "--device" -> device = FabricChoice.of(value(argv, ++i, "--device"));
        case "--ranks-per-node" -> ranksPerNode = positive("--ranks-per-node",
            value(argv, ++i, "--ranks-per-node"));
        case "--grid" -> grid = true;
        case "--verify" -> verify = true;
        case "--speed" -> speed = true;
        case "--compare-native" -> compareNative = true;
        case "--steps" -> steps = positive("--steps", value(argv, ++i, "--steps"));
        case "--json" -> json = Path.of(value(argv, ++i, "--json"));
        case "--trace" -> trace = Path.of(value(argv, ++i, "--trace"));
        default -> job.add(argv[i]);
      }
    }
    if (ranksPerNode != null && device.measuredOnStart()) {
      throw new IllegalArgumentException("--ranks-per-node is not for sim:cpu, whose nodes follow"
          + " the native job's link sets (docs/engine.md, \"The cpu profile\")");
    }
    if (ranksPerNode != null) {
      device = device.withRanksPerNode(ranksPerNode);
    }
    return new Options(String.join(" ", job), steps, grid, verify, json, trace, device, speed,
        compareNative);
  }

  private static String value(String[] argv, int i, String flag) {
    if (i >= argv.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return argv[i];
  }

  private static int positive(String flag, String text) {
    try {
      int n = Integer.parseInt(text);
      if (n < 1) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be a positive integer, was " + text);
    }
  }

  static String describe(Violation v) {
    return v.rule() + " " + (v.flag() != null ? v.flag() : v.pointer()) + ": " + v.message();
  }
}
