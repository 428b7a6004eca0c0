package dev.pipemoe.cli;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.MindSpeedArgs;
import dev.pipemoe.engine.config.ScheduleKind;
import dev.pipemoe.engine.config.Validation;
import dev.pipemoe.engine.config.Validator;
import dev.pipemoe.engine.config.Violation;
import dev.pipemoe.engine.sim.HardwareProfile;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ObjectNode;

/**
 * Predicts a job's step time, TFLOP/s per device and exposed communication on the simulated device,
 * here, without a service: the job as given and its serial baseline (docs/cli.md, "predict").
 */
@Command(name = "predict", sortOptions = false,
    description = {"Predict a job on the simulated device, here, without a service.",
        "  pipemoe predict [--device sim:ascend-910c] -- --num-experts 8 ...",
        "Runs the job as given and its serial baseline (pipe-experts off) for a few",
        "steps and prints the PREDICTED step time, TFLOP/s per device, exposed",
        "communication and gain over serial. The flags are validated as submit",
        "--dry-run validates them; refused (exit code 3): every rule it breaks is",
        "printed, with its field and flag."})
final class PredictCommand implements Callable<Integer> {
  static final String SIM = "sim:";

  /** The shipped hardware profiles as devices, for --help and completion. */
  static final class Devices implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return HardwareProfile.NAMES.stream().map(n -> SIM + n).iterator();
    }
  }

  @ParentCommand
  Pipemoe root;

  @Spec
  CommandSpec spec;

  @Option(names = "--device", paramLabel = "sim:PROFILE", defaultValue = SIM + "ascend-910c",
      completionCandidates = Devices.class,
      description = "the simulated device, one of ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
  String device;

  @Option(names = "--ranks-per-node", paramLabel = "N",
      description = "ranks that share a node (a scale-up domain); default: the profile's")
  Integer ranksPerNode;

  @Option(names = "--steps", paramLabel = "K", defaultValue = "5",
      description = "steps to simulate; the job's warm-up steps (at most K - 1) are left out of the means"
          + " (default ${DEFAULT-VALUE})")
  int steps;

  @Parameters(paramLabel = "FLAG", description = "MindSpeed-style flags, after --")
  List<String> flags = List.of();

  @Override
  public Integer call() {
    HardwareProfile profile = profile();
    if (steps < 1) {
      throw new ParameterException(spec.commandLine(), "--steps must be at least 1, was " + steps);
    }
    String args = String.join(" ", flags);
    Validation validation = Validator.validateArgs(args);
    boolean json = root.output().json();
    if (!validation.ok()) {
      spec.commandLine().getErr().println(json ? refusalJson(validation) : refusal(validation));
      return Main.REFUSED;
    }
    if (!json) {
      validation.warnings().forEach(w -> spec.commandLine().getErr().println("warning: " + rule(w)));
    }
    EngineConfig given = validation.effective();
    Prediction job = Prediction.of(given, profile, steps);
    Prediction serial = given.schedule() == ScheduleKind.SERIAL ? null
        : Prediction.of(Prediction.serial(MindSpeedArgs.read(args).spec()), profile, steps);
    if (json) {
      root.printJson(json(given, profile, job, serial, validation.warnings()));
    } else {
      root.out().print(text(given, profile, job, serial));
      root.out().flush();
    }
    return Main.OK;
  }

  private HardwareProfile profile() {
    if (!device.startsWith(SIM)) {
      throw new ParameterException(spec.commandLine(), "--device " + device
          + ": predict runs on a simulated device only, sim:PROFILE with PROFILE one of "
          + String.join(", ", HardwareProfile.NAMES));
    }
    HardwareProfile p;
    try {
      p = HardwareProfile.load(device.substring(SIM.length()));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--device " + device + ": " + e.getMessage());
    }
    if (ranksPerNode == null) {
      return p;
    }
    if (ranksPerNode < 1) {
      throw new ParameterException(spec.commandLine(), "--ranks-per-node must be at least 1, was " + ranksPerNode);
    }
    return p.withRanksPerNode(ranksPerNode);
  }

  static String text(EngineConfig c, HardwareProfile hw, Prediction job, Prediction serial) {
    StringBuilder sb = new StringBuilder();
    sb.append("PREDICTED on the simulated ").append(hw.name()).append(" (").append(hw.description())
        .append("), not measured\n");
    sb.append(topology(c, hw)).append('\n');
    sb.append(String.format(Locale.ROOT, "means over %d step(s) after %d warm-up step(s), of %d simulated%n%n",
        job.measuredSteps(), job.warmupSteps(), job.steps()));
    List<Prediction> runs = serial == null ? List.of(job) : List.of(job, serial);
    List<String> header = new ArrayList<>(List.of(""));
    runs.forEach(r -> header.add(r == serial ? "serial (baseline)" : r.schedule() + " (the job)"));
    Table t = new Table(header);
    t.row(cells("step time", runs, r -> ms(r.stepSeconds())));
    t.row(cells("TFLOP/s per device", runs, r -> Table.sig(r.tflopsPerDevice(), 4)));
    t.row(cells("exposed comm", runs, r -> Progress.percent(r.exposedShare())));
    t.row(cells("compute busy", runs, r -> ms(r.computeBusySeconds())));
    t.row(cells("EP comm busy", runs, r -> ms(r.epBusySeconds())));
    t.row(cells("TP comm busy", runs, r -> ms(r.tpBusySeconds())));
    for (String line : t.text().split("\n")) {
      sb.append("  ").append(line).append('\n');
    }
    sb.append('\n').append(serial == null
        ? "predicted gain over serial: none, the job is the serial baseline (pipe-experts off)\n"
        : String.format(Locale.ROOT, "predicted gain over serial: %+.1f %%%n", 100 * job.gainOver(serial)));
    return sb.toString();
  }

  /** The ranks, nodes and parallel layout, and the links between them. */
  static String topology(EngineConfig c, HardwareProfile hw) {
    var p = c.parallel();
    return "topology: " + hw.topology(c.worldSize(), String.format(Locale.ROOT, "TP=%d DP=%d EP=%d%s",
        p.tensor(), p.data(), p.expert(), p.sequenceParallel() ? ", SP" : ""));
  }

  private interface Cell {
    String of(Prediction p);
  }

  private static List<String> cells(String label, List<Prediction> runs, Cell cell) {
    List<String> row = new ArrayList<>(List.of(label));
    runs.forEach(r -> row.add(cell.of(r)));
    return row;
  }

  private static String ms(double seconds) {
    return Table.sig(seconds * 1e3, 4) + " ms";
  }

  private static ObjectNode json(EngineConfig c, HardwareProfile hw, Prediction job, Prediction serial,
      List<Violation> warnings) {
    ObjectNode o = Api.JSON.createObjectNode();
    o.put("predicted", true);
    o.put("device", SIM + hw.name());
    o.put("profile", hw.description());
    ObjectNode topo = o.putObject("topology");
    topo.put("ranks", c.worldSize());
    topo.put("ranksPerNode", hw.ranksPerNode());
    topo.put("nodes", hw.nodes(c.worldSize()));
    topo.put("tensor", c.parallel().tensor());
    topo.put("data", c.parallel().data());
    topo.put("expert", c.parallel().expert());
    topo.put("sequenceParallel", c.parallel().sequenceParallel());
    o.put("steps", job.steps());
    o.put("warmupSteps", job.warmupSteps());
    o.put("measuredSteps", job.measuredSteps());
    figures(o.putObject("job"), job);
    if (serial == null) {
      o.putNull("serial");
      o.putNull("gain");
    } else {
      figures(o.putObject("serial"), serial);
      o.put("gain", job.gainOver(serial));
    }
    violations(o, "warnings", warnings);
    return o;
  }

  private static void figures(ObjectNode o, Prediction p) {
    o.put("schedule", p.schedule());
    o.put("stepSeconds", p.stepSeconds());
    o.put("tflopsPerDevice", p.tflopsPerDevice());
    o.put("exposedCommShare", p.exposedShare());
    o.put("computeBusySeconds", p.computeBusySeconds());
    o.put("epBusySeconds", p.epBusySeconds());
    o.put("tpBusySeconds", p.tpBusySeconds());
  }

  /** Every rule the job breaks, as submit prints the service's refusal (docs/cli.md, "Errors"). */
  static String refusal(Validation v) {
    StringBuilder sb = new StringBuilder("refused: the job spec breaks ").append(v.errors().size())
        .append(v.errors().size() == 1 ? " rule:" : " rules:");
    v.errors().forEach(e -> sb.append("\n  ").append(rule(e)));
    if (!v.warnings().isEmpty()) {
      sb.append("\nwarnings:");
      v.warnings().forEach(w -> sb.append("\n  ").append(rule(w)));
    }
    return sb.toString();
  }

  /** The refusal as the service's problem document has it: {@code errors} and {@code warnings}. */
  private static String refusalJson(Validation v) {
    ObjectNode o = Api.JSON.createObjectNode();
    o.put("title", "Invalid job spec");
    violations(o, "errors", v.errors());
    violations(o, "warnings", v.warnings());
    return o.toString();
  }

  private static void violations(ObjectNode o, String field, List<Violation> list) {
    var array = o.putArray(field);
    for (Violation v : list) {
      ObjectNode e = array.addObject();
      e.put("pointer", v.pointer());
      e.put("flag", v.flag());
      e.put("rule", v.rule());
      e.put("message", v.message());
    }
  }

  private static String rule(Violation v) {
    return Problems.rule(v.rule(), v.pointer(), v.flag(), v.message());
  }
}
