package dev.pipemoe.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.config.Architecture;
import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.JobSpec;
import dev.pipemoe.engine.config.ScheduleKind;
import dev.pipemoe.engine.config.Validation;
import dev.pipemoe.engine.config.Validator;
import dev.pipemoe.worker.bench.BenchCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * examples/: every job spec is a valid submission body (name + spec sections, nothing unknown)
 * that this engine accepts without a warning, runs the variant its file name says, and fits the
 * default worker; every scenario's bench.args describes its "off" variant and runs in bench.
 */
class ExamplesTest {
  static final Path EXAMPLES = Path.of("..", "examples");
  static final JsonMapper STRICT = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
  /** Scenario -> experts; EP 4 everywhere, so 1, 4 and 2 local experts. */
  static final Map<String, Integer> SCENARIOS = Map.of("e4-ep4", 4, "e16-ep4", 16, "e8-ep4", 8);

  static Validation validate(Path file) throws IOException {
    ObjectNode body = (ObjectNode) STRICT.readTree(Files.readString(file));
    String dir = file.getParent().getFileName().toString();
    String variant = file.getFileName().toString().replace(".json", "");
    assertThat(body.remove("name").asString()).isEqualTo(dir + "-" + variant);
    return Validator.validate(STRICT.treeToValue(body, JobSpec.class));
  }

  @Test
  void everyJobSpecIsValidAndRunsTheVariantItsNameSays() throws IOException {
    for (var scenario : SCENARIOS.entrySet()) {
      Path dir = EXAMPLES.resolve(scenario.getKey());
      List<String> variants;
      try (Stream<Path> files = Files.list(dir)) {
        variants = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
            .map(n -> n.replace(".json", "")).sorted().toList();
      }
      // one local expert: pipe-experts without multi-data would be switched off (V3)
      assertThat(variants).as(dir.toString()).containsExactlyInAnyOrderElementsOf(
          scenario.getValue() == 4 ? List.of("off", "multi-data-2", "multi-data-4")
              : List.of("off", "pipe-experts", "multi-stream", "multi-data-2", "multi-data-4"));
      for (String variant : variants) {
        Validation v = validate(dir.resolve(variant + ".json"));
        assertThat(v.errors()).as(variant).isEmpty();
        assertThat(v.warnings()).as(variant).isEmpty();
        EngineConfig c = v.effective();
        assertThat(c.architecture()).as("a whole-model job").isEqualTo(Architecture.GPT);
        assertThat(c.model().numExperts()).isEqualTo(scenario.getValue());
        assertThat(c.parallel().expert()).isEqualTo(4);
        assertThat(c.localExperts()).isEqualTo(scenario.getValue() / 4);
        assertThat(c.worldSize()).as("fits a default worker (8 devices)").isLessThanOrEqualTo(8);
        EngineConfig.PipeExperts pe = c.pipeExperts();
        assertThat(c.schedule()).as(variant).isEqualTo(variant.equals("off") ? ScheduleKind.SERIAL
            : ScheduleKind.MINDSPEED);
        assertThat(pe.multiStream()).as(variant).isEqualTo(variant.startsWith("multi-"));
        assertThat(pe.multiData()).as(variant).isEqualTo(variant.startsWith("multi-data-")
            ? Integer.parseInt(variant.substring("multi-data-".length())) : 1);
      }
    }
  }

  @Test
  void theLeftOutVariantsOfOneLocalExpertAreTheOnesValidationSwitchesOff() throws IOException {
    String base = Files.readString(EXAMPLES.resolve("e4-ep4/bench.args")).strip();
    for (String flags : List.of("--use-pipe-experts", "--use-pipe-experts --pipe-experts-multi-stream")) {
      Validation v = Validator.validateArgs(base + " " + flags);
      assertThat(v.warnings()).extracting(w -> w.rule()).containsExactly("V3");
      assertThat(v.effective().schedule()).isEqualTo(ScheduleKind.SERIAL);
    }
  }

  @Test
  void benchArgsDescribeTheOffVariantAndTheBenchAcceptsThem() throws IOException {
    for (String scenario : SCENARIOS.keySet()) {
      String args = Files.readString(EXAMPLES.resolve(scenario).resolve("bench.args")).strip();
      Validation fromArgs = Validator.validateArgs(args);
      assertThat(fromArgs.errors()).isEmpty();
      assertThat(fromArgs.effective())
          .isEqualTo(validate(EXAMPLES.resolve(scenario).resolve("off.json")).effective());

      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code = BenchCommand.run((args + " --steps 2").split("\\s+"),
          new PrintStream(out, true), new PrintStream(err, true));
      assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).contains("| serial ")
          .contains("E=" + SCENARIOS.get(scenario) + ",").contains("EP=4");
    }
  }

  /** Each scenario's production-size whole model for the simulated 910C (issue 12's must-show). */
  @Test
  void productionArgsAreValidWholeModelsForTheSimulated910c() throws IOException {
    for (var scenario : SCENARIOS.entrySet()) {
      String args = Files.readString(EXAMPLES.resolve(scenario.getKey()).resolve("production.args")).strip();
      Validation v = Validator.validateArgs(args);
      assertThat(v.errors()).as(scenario.getKey()).isEmpty();
      assertThat(v.warnings()).as(scenario.getKey()).isEmpty();
      EngineConfig c = v.effective();
      assertThat(c.architecture()).isEqualTo(Architecture.GPT);
      assertThat(c.model().hiddenSize()).isEqualTo(12288);
      assertThat(c.model().numExperts()).isEqualTo(scenario.getValue());
      assertThat(c.parallel()).isEqualTo(new EngineConfig.Parallel(8, 2, 4, true, 2));
      assertThat(c.tokensPerRank()).as("tokens per rank").isGreaterThanOrEqualTo(8192);
      assertThat(c.schedule()).isEqualTo(ScheduleKind.MINDSPEED);
      assertThat(c.gpt().recompute()).isTrue();
      assertThat(c.resources().deviceType().jsonName()).isEqualTo("ascend-910c");
    }
  }

  /** The tiny GPT of issue 12's must-show: TP 2, EP 2, SP, 2 layers, 300 steps on the CPU. */
  @Test
  void theTinyGptIsValidAndItsBenchArgsSayTheSame() throws IOException {
    Path dir = EXAMPLES.resolve("gpt-tiny");
    Validation v = validate(dir.resolve("tp2-ep2.json"));
    assertThat(v.errors()).isEmpty();
    assertThat(v.warnings()).isEmpty();
    EngineConfig c = v.effective();
    assertThat(c.architecture()).isEqualTo(Architecture.GPT);
    assertThat(c.parallel()).isEqualTo(new EngineConfig.Parallel(2, 2, 2, true, 1));
    assertThat(c.model().numLayers()).isEqualTo(2);
    assertThat(c.model().hiddenSize()).isBetween(64, 256);
    assertThat(c.training().steps()).isEqualTo(300);
    assertThat(Validator.validateArgs(Files.readString(dir.resolve("bench.args")).strip()).effective())
        .isEqualTo(c);
  }
}
