package dev.pipemoe.service.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.Specs;
import dev.pipemoe.service.security.Role;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Every rule the engine defines surfaces through POST /api/v1/jobs with its id, pointer and flag:
 * errors in a 422's {@code errors}, warnings in the accepted job's {@code warnings}. The inputs are
 * those of the engine's ValidatorRulesTest, one row per rule (and severity); a last test reads the
 * rules table of docs/config.md so a rule added to the engine without a row here fails the build.
 */
class ValidationRulesApiTest extends ApiTest {

  enum Kind { ERROR, WARNING }

  record Case(String rule, Kind kind, String pointer, String flag, Object body) {
    @Override
    public String toString() {
      return rule + " " + kind.name().toLowerCase() + " at " + pointer;
    }
  }

  private static final String BASE_ARGS = "--moe-model-type deepspeed_moe --num-experts 8 --tensor-model-parallel-size 2"
      + " --expert-model-parallel-size 4 --sequence-parallel --use-pipe-experts";

  static final List<Case> CASES = List.of(
      error("V1", "/pipeExperts/multiData", "--pipe-experts-multi-data", "/pipeExperts/multiData", 0),
      error("V2", "/pipeExperts/multiStream", "--pipe-experts-multi-stream",
          "/parallel/sequenceParallel", false, "/pipeExperts/multiStream", true),
      warning("V3", "/pipeExperts/enabled", "--use-pipe-experts", "/parallel/expert", 8),
      error("V4", "/mindspeed/enableZero3", "--enable-zero3", "/mindspeed/enableZero3", true),
      error("V5", "/mindspeed/useAscendMc2", "--use-ascend-mc2", "/mindspeed/useAscendMc2", true),
      warning("V6", "/pipeExperts/multiData", "--pipe-experts-multi-data",
          "/mindspeed/ampipeDegree", 2, "/pipeExperts/multiData", 3, "/pipeExperts/multiStream", true),
      error("V7", "/pipeExperts/multiData", "--pipe-experts-multi-data", "/pipeExperts/multiData", 65),
      error("V8", "/parallel/expert", "--expert-model-parallel-size", "/model/numExperts", 6),
      error("V9", "/model/topK", "--moe-router-topk", "/model/topK", 3),
      error("V10", "/mindspeed/moeDynamicPadding", "--moe-dynamic-padding", "/mindspeed/moeDynamicPadding", true),
      error("V11", "/model/moeModelType", "--moe-model-type", "/model/moeModelType", "switch_moe"),
      warning("V11", "/model/moeModelType", "--moe-model-type", "/model/moeModelType", "megatron_moe"),
      error("P-MODEL-TYPE", "/model/moeModelType", "--moe-model-type",
          "/pipeExperts/enabled", false, "/model/moeModelType", "megatron_moe"),
      error("P-REQUIRED", "/model/numExperts", "--num-experts", "/model/numExperts", null),
      error("P-RANGE", "/model/hiddenSize", "--hidden-size", "/model/hiddenSize", 0),
      error("P-CHOICE", "/model/dtype", "--dtype", "/model/dtype", "int8"),
      error("P-FP16", "/model/dtype", "--fp16", "/model/dtype", "fp16"),
      error("P-REUSE-BF16", "/mindspeed/reuseFp32Param", "--reuse-fp32-param", "/mindspeed/reuseFp32Param", true),
      error("P-WORLD", "/resources/devices", "--devices", "/parallel/data", 4, "/resources/devices", 16),
      error("P-EP-DATA", "/parallel/data", "--data-parallel-size", "/parallel/data", 6),
      warning("P-SP-TP", "/parallel/sequenceParallel", "--sequence-parallel", "/parallel/tensor", 1),
      error("P-SP-SEQ", "/model/seqLength", "--seq-length", "/model/seqLength", 511),
      error("P-TP-FFN", "/model/ffnHiddenSize", "--ffn-hidden-size", "/model/ffnHiddenSize", 511),
      error("P-TOPK-E", "/model/topK", "--moe-router-topk",
          "/pipeExperts/enabled", false, "/model/numExperts", 1, "/parallel/expert", 1, "/model/topK", 2),
      warning("P-PE-IGNORED", "/pipeExperts/multiStream", "--pipe-experts-multi-stream",
          "/pipeExperts/enabled", false, "/pipeExperts/multiStream", true),
      warning("P-FAMILY", "/pipeExperts/prefetchDepth", "--pipe-experts-prefetch-depth", "/pipeExperts/prefetchDepth", 2),
      error("P-N-CAPACITY", "/pipeExperts/multiDataBackward", "--pipe-experts-multi-data-bwd",
          "/pipeExperts/family", "improved", "/pipeExperts/multiDataBackward", 65),
      warning("P-NOT-RUN", "/mindspeed/recomputeGranularity", "--recompute-granularity",
          "/mindspeed/recomputeGranularity", "full"),
      error("P-UNSUPPORTED", "/mindspeed/moeNoDrop", "--moe-no-drop", "/mindspeed/moeNoDrop", true),
      error("P-FABRIC", "/fabric/bandwidthBytesPerSecond", "--fabric-bandwidth",
          "/fabric/profile", "unmodelled", "/fabric/bandwidthBytesPerSecond", 1e9),
      error("G1", "/model/numAttentionHeads", "--num-attention-heads", "/model/numAttentionHeads", 3,
          "/model/hiddenSize", 192),
      error("G2", "/model/hiddenSize", "--hidden-size", "/model/numAttentionHeads", 6),
      error("G3", "/model/seqLength", "--seq-length", "/model/numAttentionHeads", 4, "/parallel/context", 2,
          "/model/seqLength", 502, "/resources/deviceType", "ascend-910c"),
      error("G4", "/training/globalBatchSize", "--global-batch-size", "/model/numAttentionHeads", 4,
          "/training/globalBatchSize", 6),
      error("G5", "/parallel/context", "--context-parallel-size", "/model/numAttentionHeads", 4,
          "/parallel/context", 2),
      warning("G6", "/training/dataPath", "--data-path", "/training/dataPath", "/data/a.txt"),
      error("G6", "/parallel/context", "--context-parallel-size", "/parallel/context", 2, "/parallel/data", 2,
          "/resources/deviceType", "ascend-910c"),
      error("G7", "/model/vocabSize", "--vocab-size", "/model/numAttentionHeads", 4, "/model/vocabSize", 100),
      warning("G8", "/mindspeed/recomputeMethod", "--recompute-method", "/model/numAttentionHeads", 4,
          "/mindspeed/recomputeGranularity", "full", "/mindspeed/recomputeMethod", "block"),
      warning("G9", "/mindspeed/recomputeNumLayers", "--recompute-num-layers", "/mindspeed/recomputeNumLayers", 1),
      new Case("ARGS", Kind.ERROR, "/args", "--no-such-flag", args("--num-experts 8 --no-such-flag")),
      new Case("ARGS", Kind.WARNING, "/args", "--num-query-groups", args(BASE_ARGS + " --num-query-groups 8")),
      // a rule on a spec that came as args: the pointer names the field, the flag where it sits in the string
      new Case("V1", Kind.ERROR, "/pipeExperts/multiData", "--pipe-experts-multi-data",
          args(BASE_ARGS + " --pipe-experts-multi-data 0")));

  String user;

  @BeforeEach
  void user() {
    user = token(uniqueOwner("rules"), Role.USER);
  }

  static Stream<Case> cases() {
    return CASES.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void everyRuleSurfacesWithItsPointerAndFlag(Case c) {
    Http.Response response = submit(user, c.body());
    JsonNode found;
    if (c.kind() == Kind.ERROR) {
      assertThat(response.status()).as("%s", response).isEqualTo(422);
      assertThat(response.contentType()).isEqualTo("application/problem+json");
      assertThat(response.json().get("type").stringValue()).isEqualTo("https://pipemoe.dev/problems/invalid-job");
      found = find(response.json().get("errors"), c);
    } else {
      JsonNode body = response.json();
      // a warning also comes with a refused job (V11 with megatron_moe), and then sits next to the errors
      assertThat(response.status()).as("%s", response).isIn(201, 422);
      found = find(body.get("warnings"), c);
    }
    assertThat(found.get("message").stringValue()).startsWith(c.rule() + ": ");
  }

  @Test
  void everyRuleOfDocsConfigMdHasACase() throws IOException {
    Set<String> documented = documentedRules();
    Set<String> covered = new LinkedHashSet<>();
    CASES.forEach(c -> covered.add(c.rule()));
    assertThat(documented).hasSizeGreaterThan(25);
    assertThat(covered).containsAll(documented);
  }

  @Test
  void allErrorsOfOneSpecComeBackTogether() {
    Http.Response response = submit(user, Specs.with("many", "/model/topK", 3, "/model/hiddenSize", 0,
        "/mindspeed/moeNoDrop", true, "/pipeExperts/multiData", 0));

    assertThat(response.status()).isEqualTo(422);
    assertThat(SubmissionErrorsTest.rules(response.json())).contains("V9", "P-RANGE", "P-UNSUPPORTED", "V1");
    assertThat(response.json().get("detail").stringValue()).contains("rules");
    assertThat(response.json().get("notes").size()).isPositive();
  }

  private static JsonNode find(JsonNode violations, Case c) {
    for (JsonNode v : violations) {
      if (v.get("rule").stringValue().equals(c.rule()) && v.get("pointer").stringValue().equals(c.pointer())) {
        assertThat(v.get("flag").stringValue()).as("flag of %s", c).isEqualTo(c.flag());
        return v;
      }
    }
    throw new AssertionError(c + " not in " + violations);
  }

  /** The rule ids in the first column of docs/config.md's rules table (§2). */
  private static Set<String> documentedRules() throws IOException {
    String doc = Files.readString(Path.of("..", "docs", "config.md"));
    String table = doc.substring(doc.indexOf("## 2. Rules"), doc.indexOf("### Order, and effective values"));
    Set<String> ids = new LinkedHashSet<>();
    Matcher row = Pattern.compile("(?m)^\\| (V\\d+|G\\d+|P-[A-Z0-9-]+|ARGS) \\|").matcher(table);
    while (row.find()) {
      ids.add(row.group(1));
    }
    return ids;
  }

  private static Case error(String rule, String pointer, String flag, Object... changes) {
    return new Case(rule, Kind.ERROR, pointer, flag, Specs.with("rule-" + rule.toLowerCase(), changes));
  }

  private static Case warning(String rule, String pointer, String flag, Object... changes) {
    return new Case(rule, Kind.WARNING, pointer, flag, Specs.with("rule-" + rule.toLowerCase(), changes));
  }

  private static Object args(String args) {
    return JsonNodeFactory.instance.objectNode().put("name", "args-case").put("args", args);
  }
}
