package dev.pipemoe.service.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.config.JobSpec;
import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.Specs;
import dev.pipemoe.service.security.Role;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Random and mutated bodies at POST /api/v1/jobs: whatever arrives, the answer is never a 5xx, and
 * every 4xx is a problem detail with a title, a detail and its own status. Seeded by the engine's
 * {@link Property} harness, so a failure names the seed that replays it.
 */
class SubmitFuzzTest extends ApiTest {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final YAMLMapper YAML = YAMLMapper.builder().build();
  private static final List<String> POINTERS = pointers();
  private static final List<String> FLAGS = List.of("--moe-model-type", "--num-experts", "--use-pipe-experts",
      "--pipe-experts-multi-stream", "--pipe-experts-multi-data", "--tensor-model-parallel-size",
      "--expert-model-parallel-size", "--sequence-parallel", "--bf16", "--fp16", "--dtype", "--seed",
      "--fabric", "--devices", "--num-attention-heads", "--no-such-flag", "--", "-x", "\\", "=");
  private static final List<String> WORDS = List.of("deepspeed_moe", "megatron_moe", "8", "0", "-1", "1e309",
      "NaN", "true", "false", "null", "", "ascend-910c", "2147483648", "\u00e9", "\"", "{", "[", "&a", "*a", "!!str");

  /** One request: what is sent, and how it was made (for the failure message). */
  record Attempt(String kind, String contentType, byte[] body, boolean dryRun) {
    @Override
    public String toString() {
      String text = new String(body, StandardCharsets.UTF_8);
      return kind + " (" + contentType + (dryRun ? ", dry run" : "") + "): "
          + (text.length() > 300 ? text.substring(0, 300) + "..." : text);
    }
  }

  @Test
  void randomAndMutatedSpecsNeverGetA5xx() {
    String user = token(uniqueOwner("fuzz"), Role.USER);
    int[] statuses = new int[6];
    Property.forAll(400, SubmitFuzzTest::attempt, attempt -> {
      Http.Response response = http.post("/api/v1/jobs" + (attempt.dryRun() ? "?dryRun=true" : ""))
          .token(user).body(attempt.body(), attempt.contentType()).send();
      statuses[response.status() / 100]++;
      assertThat(response.status()).as("%s", response).isLessThan(500);
      if (response.status() >= 400) {
        assertThat(response.contentType()).isEqualTo("application/problem+json");
        JsonNode problem = response.json();
        assertThat(problem.get("status").intValue()).isEqualTo(response.status());
        assertThat(problem.get("title").stringValue()).isNotBlank();
        assertThat(problem.get("detail").stringValue()).isNotBlank();
      } else {
        assertThat(response.json().get("effective").isObject()).isTrue();
      }
    });
    // the generators reach both sides: some bodies pass, most do not
    assertThat(statuses[2]).isPositive();
    assertThat(statuses[4]).isGreaterThan(statuses[2]);
  }

  static Attempt attempt(SplittableRandom r) {
    boolean dryRun = Gen.chance(r, 0.5);
    return switch (r.nextInt(7)) {
      case 0 -> json("random tree", randomTree(r, 0, true), dryRun);
      case 1 -> json("mutated spec", mutatedSpec(r), dryRun);
      case 2 -> new Attempt("mutated text", "application/json", mutateText(r, Specs.valid("text").toString()), dryRun);
      case 3 -> new Attempt("random bytes", Gen.oneOf(r, "application/json", "application/yaml"), randomBytes(r), dryRun);
      case 4 -> new Attempt("yaml tree", "application/yaml",
          YAML.writeValueAsBytes(Gen.chance(r, 0.5) ? mutatedSpec(r) : randomTree(r, 0, true)), dryRun);
      case 5 -> new Attempt("yaml soup", "application/yaml", yamlSoup(r), dryRun);
      default -> json("args soup", NODES.objectNode().put("name", "args-fuzz").put("args", argsSoup(r)), dryRun);
    };
  }

  private static Attempt json(String kind, JsonNode body, boolean dryRun) {
    return new Attempt(kind, "application/json", body.toString().getBytes(StandardCharsets.UTF_8), dryRun);
  }

  /** A valid spec with one to three fields changed: wrong type, odd value, unknown name, or removed. */
  private static ObjectNode mutatedSpec(SplittableRandom r) {
    ObjectNode body = Specs.valid("mutant-" + r.nextInt(1000));
    int mutations = Gen.intIn(r, 1, 3);
    for (int i = 0; i < mutations; i++) {
      String pointer = Gen.chance(r, 0.1) ? Gen.oneOf(r, "/name", "/args", "/model", "/pipeExperts")
          : Gen.oneOf(r, POINTERS);
      if (Gen.chance(r, 0.15)) {
        pointer = pointer.substring(0, pointer.lastIndexOf('/') + 1) + Gen.string(r, 12); // an unknown name
      }
      if (pointer.lastIndexOf('/') > 0 && !(body.at(pointer.substring(0, pointer.lastIndexOf('/'))) instanceof ObjectNode)) {
        continue; // its section was replaced by a scalar in an earlier mutation
      }
      Specs.set(body, pointer, Gen.chance(r, 0.1) ? null : randomValue(r));
    }
    return body;
  }

  private static JsonNode randomValue(SplittableRandom r) {
    return switch (r.nextInt(10)) {
      case 0 -> NODES.stringNode(Gen.string(r, 10));
      case 1 -> NODES.booleanNode(r.nextBoolean());
      case 2 -> NODES.numberNode(Gen.intWithEdges(r, -2, 300));
      case 3 -> NODES.numberNode(Gen.oneOf(r, 0.5, -0.0, 1e308, 2.5e9, 1.0, 64.0, Double.MIN_VALUE));
      case 4 -> NODES.numberNode(new java.math.BigInteger("9".repeat(Gen.intIn(r, 10, 40))));
      case 5 -> NODES.stringNode(Gen.oneOf(r, WORDS));
      case 6 -> NODES.arrayNode().add(r.nextInt(10));
      case 7 -> NODES.objectNode().put(Gen.string(r, 5), 1);
      case 8 -> NODES.nullNode();
      default -> NODES.numberNode(Gen.intIn(r, 0, 16));
    };
  }

  private static JsonNode randomTree(SplittableRandom r, int depth, boolean object) {
    if (depth > 3 || (!object && Gen.chance(r, 0.5))) {
      return randomValue(r);
    }
    if (object || Gen.chance(r, 0.6)) {
      ObjectNode node = NODES.objectNode();
      int fields = Gen.intIn(r, 0, 5);
      for (int i = 0; i < fields; i++) {
        String name = Gen.chance(r, 0.6) ? Gen.oneOf(r, POINTERS).substring(1).split("/")[depth % 2]
            : Gen.chance(r, 0.5) ? Gen.oneOf(r, "name", "args") : Gen.string(r, 8);
        node.set(name, randomTree(r, depth + 1, false));
      }
      return node;
    }
    ArrayNode array = NODES.arrayNode();
    int items = Gen.intIn(r, 0, 4);
    for (int i = 0; i < items; i++) {
      array.add(randomTree(r, depth + 1, false));
    }
    return array;
  }

  private static byte[] mutateText(SplittableRandom r, String text) {
    StringBuilder sb = new StringBuilder(text);
    int edits = Gen.intIn(r, 1, 4);
    for (int i = 0; i < edits && !sb.isEmpty(); i++) {
      int at = r.nextInt(sb.length());
      switch (r.nextInt(3)) {
        case 0 -> sb.deleteCharAt(at);
        case 1 -> sb.insert(at, Gen.oneOf(r, '{', '}', '"', ',', ':', '[', '0', '\\', 'e', '-'));
        default -> sb.setCharAt(at, (char) Gen.intIn(r, 0x20, 0x7e));
      }
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] randomBytes(SplittableRandom r) {
    byte[] bytes = new byte[Gen.intIn(r, 0, 200)];
    r.nextBytes(bytes);
    return bytes;
  }

  private static byte[] yamlSoup(SplittableRandom r) {
    StringBuilder sb = new StringBuilder();
    int lines = Gen.intIn(r, 1, 8);
    for (int i = 0; i < lines; i++) {
      sb.append(" ".repeat(Gen.intIn(r, 0, 4)))
          .append(Gen.chance(r, 0.5) ? Gen.oneOf(r, "name", "model", "numExperts", "- ", "args", "pipeExperts") : Gen.string(r, 6))
          .append(Gen.oneOf(r, ": ", ":", " ", ": &x ", ": *x ", ": !!binary ", ": |\n  "))
          .append(Gen.oneOf(r, WORDS))
          .append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String argsSoup(SplittableRandom r) {
    List<String> tokens = new ArrayList<>();
    int n = Gen.intIn(r, 0, 12);
    for (int i = 0; i < n; i++) {
      tokens.add(Gen.chance(r, 0.5) ? Gen.oneOf(r, FLAGS) : Gen.oneOf(r, WORDS));
    }
    return String.join(Gen.oneOf(r, " ", "  ", "\t", "\n", "="), tokens);
  }

  /** Every field pointer of the spec, read from the engine's records. */
  private static List<String> pointers() {
    List<String> pointers = new ArrayList<>();
    for (RecordComponent section : JobSpec.class.getRecordComponents()) {
      for (RecordComponent field : section.getType().getRecordComponents()) {
        pointers.add("/" + section.getName() + "/" + field.getName());
      }
    }
    return pointers;
  }
}
