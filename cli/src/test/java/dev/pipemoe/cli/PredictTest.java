package dev.pipemoe.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * {@code pipemoe predict} on the engine's simulated device: no service, so none is given (an
 * unreachable URL and no token: a predict that called one would fail).
 */
class PredictTest {
  @TempDir
  Path dir;

  StringWriter out;
  StringWriter err;

  int run(String... args) {
    out = new StringWriter();
    err = new StringWriter();
    Map<String, String> env = Map.of("PIPEMOE_CONFIG", dir.resolve("none").toString(),
        "PIPEMOE_URL", "http://127.0.0.1:1");
    return Main.commandLine(env, false).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute(args);
  }

  /** predict's options, then --, then examples/e8-ep4's flags and the pipe-experts options. */
  static String[] e8ep4(List<String> options, String... pipeExperts) throws IOException {
    List<String> args = new ArrayList<>(List.of("predict"));
    args.addAll(options);
    args.add("--");
    args.addAll(List.of(Files.readString(Path.of("../examples/e8-ep4/bench.args")).strip().split("\\s+")));
    args.addAll(List.of(pipeExperts));
    return args.toArray(String[]::new);
  }

  @Test
  void predictsTheJobAndItsSerialBaselineLabelledAndTwoRunsPrintTheSameNumbers() throws IOException {
    String[] args = e8ep4(List.of("--steps", "3"), "--use-pipe-experts", "--pipe-experts-multi-data", "2");
    assertThat(run(args)).as(err.toString()).isZero();
    String first = out.toString();
    List<String> lines = first.lines().toList();
    assertThat(lines.get(0)).startsWith("PREDICTED on the simulated ascend-910c (").endsWith("), not measured");
    assertThat(lines.get(1)).startsWith("topology: 8 ranks on 1 node(s) of 16 (TP=2 DP=4 EP=4, SP); intra-node ")
        .contains("unified links (EP and TP share)");
    assertThat(lines.get(2)).isEqualTo("means over 1 step(s) after 2 warm-up step(s), of 3 simulated");
    assertThat(lines.get(4)).matches(" +mindspeed N=2 \\(the job\\) +serial \\(baseline\\)");
    String ms = "[0-9.]+ ms";
    assertThat(lines.subList(5, 11)).satisfiesExactly(
        l -> assertThat(l).matches("  step time +" + ms + " +" + ms),
        l -> assertThat(l).matches("  TFLOP/s per device +[0-9.]+ +[0-9.]+"),
        l -> assertThat(l).matches("  exposed comm +[0-9.]+ % +[0-9.]+ %"),
        l -> assertThat(l).matches("  compute busy +" + ms + " +" + ms),
        l -> assertThat(l).matches("  EP comm busy +" + ms + " +" + ms),
        l -> assertThat(l).matches("  TP comm busy +" + ms + " +" + ms));
    assertThat(lines.get(12)).matches("predicted gain over serial: [+-][0-9]+\\.[0-9] %");
    assertThat(lines).hasSize(13);

    assertThat(run(args)).isZero();
    assertThat(out.toString()).isEqualTo(first);
  }

  @Test
  void jsonOutputParsesAndItsFiguresAgree() throws IOException {
    String[] args = e8ep4(List.of("-o", "json", "--steps", "3", "--ranks-per-node", "4", "--device", "sim:ascend-910b"),
        "--use-pipe-experts", "--pipe-experts-multi-stream");
    assertThat(run(args)).as(err.toString()).isZero();
    JsonNode p = Api.JSON.readTree(out.toString());
    assertThat(p.path("predicted").asBoolean()).isTrue();
    assertThat(p.path("device").asString()).isEqualTo("sim:ascend-910b");
    assertThat(p.path("topology").path("ranks").asInt()).isEqualTo(8);
    assertThat(p.path("topology").path("ranksPerNode").asInt()).isEqualTo(4);
    assertThat(p.path("topology").path("nodes").asInt()).isEqualTo(2);
    assertThat(p.path("measuredSteps").asInt()).isEqualTo(1);
    assertThat(p.path("warnings").isArray()).isTrue();
    assertThat(err.toString()).isEmpty();
    JsonNode job = p.path("job");
    JsonNode serial = p.path("serial");
    assertThat(job.path("schedule").asString()).isEqualTo("mindspeed ms N=1");
    assertThat(serial.path("schedule").asString()).isEqualTo("serial");
    for (JsonNode r : List.of(job, serial)) {
      double step = r.path("stepSeconds").asDouble();
      assertThat(step).isPositive();
      assertThat(r.path("tflopsPerDevice").asDouble()).isPositive();
      assertThat(r.path("exposedCommShare").asDouble()).isBetween(0.0, 1.0);
      assertThat(r.path("computeBusySeconds").asDouble()).isPositive().isLessThanOrEqualTo(step);
      assertThat(r.path("epBusySeconds").asDouble()).isPositive();
      assertThat(r.path("tpBusySeconds").asDouble()).isPositive();
    }
    assertThat(p.path("gain").asDouble()).isCloseTo(
        serial.path("stepSeconds").asDouble() / job.path("stepSeconds").asDouble() - 1, within(1e-12));
    // the same model FLOPs per step: TFLOP/s x step time agree
    assertThat(job.path("tflopsPerDevice").asDouble() * job.path("stepSeconds").asDouble()).isCloseTo(
        serial.path("tflopsPerDevice").asDouble() * serial.path("stepSeconds").asDouble(), within(1e-12));
  }

  @Test
  void aSerialJobIsItsOwnBaselineAndItsWarningsArePrinted() throws IOException {
    // N without --use-pipe-experts: valid, pipe-experts off, and a warning saying so
    assertThat(run(e8ep4(List.of("--steps", "2"), "--pipe-experts-multi-data", "2"))).as(err.toString()).isZero();
    assertThat(out.toString()).contains("serial (the job)").doesNotContain("(baseline)")
        .endsWith("predicted gain over serial: none, the job is the serial baseline (pipe-experts off)\n");
    assertThat(err.toString()).startsWith(
        "warning: P-PE-IGNORED  /pipeExperts/multiData (--pipe-experts-multi-data): pipeExperts.multiData");
  }

  @Test
  void anInvalidJobPrintsEveryRuleWithItsFieldAndFlagAndExits3() {
    assertThat(run("predict", "--", "--moe-model-type", "deepspeed_moe", "--num-experts", "8",
        "--use-pipe-experts", "--pipe-experts-multi-stream", "--pipe-experts-multi-data", "600")).isEqualTo(3);
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString()).isEqualTo("""
        refused: the job spec breaks 2 rules:
          V2  /pipeExperts/multiStream (--pipe-experts-multi-stream): pipeExperts.multiStream (--pipe-experts-multi-stream) can only be used with --sequence-parallel, and parallel.sequenceParallel is not set
          V7  /pipeExperts/multiData (--pipe-experts-multi-data): pipeExperts.multiData (--pipe-experts-multi-data) 600 cannot be greater than experts capacity C = 128 (S = 512)
        """);

    assertThat(run("predict", "-o", "json", "--", "--num-experts", "x")).isEqualTo(3);
    JsonNode problem = Api.JSON.readTree(err.toString());
    assertThat(problem.path("errors").get(0).path("rule").asString()).isEqualTo("ARGS");
    assertThat(problem.path("errors").get(0).path("flag").asString()).isEqualTo("--num-experts");
  }

  @Test
  void aDeviceThatIsNotSimulatedOrUnknownIsAUsageError() {
    assertThat(run("predict", "--device", "native", "--", "--num-experts", "8")).isEqualTo(2);
    assertThat(err.toString()).contains("predict runs on a simulated device only, sim:PROFILE");
    assertThat(run("predict", "--device", "sim:tpu", "--", "--num-experts", "8")).isEqualTo(2);
    assertThat(err.toString()).contains("no hardware profile 'tpu'; profiles: ascend-910c");
    assertThat(run("predict", "--ranks-per-node", "0", "--", "--num-experts", "8")).isEqualTo(2);
    assertThat(run("predict", "--steps", "0", "--", "--num-experts", "8")).isEqualTo(2);
  }
}
