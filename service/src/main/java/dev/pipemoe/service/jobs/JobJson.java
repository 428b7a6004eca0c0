package dev.pipemoe.service.jobs;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.JobSpec;
import dev.pipemoe.engine.config.ScheduleKind;
import dev.pipemoe.engine.config.Violation;
import dev.pipemoe.service.system.EngineJsonNames;
import dev.pipemoe.service.system.Problems;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.List;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * JSON as the jobs feature stores and shows it: the effective config with the engine's JSON names
 * ({@code deepspeed_moe}, {@code ascend-910c}, {@code fp32}), violations as {@code {pointer, flag,
 * rule, message}}, and the spec that an argument string describes.
 */
@Component
class JobJson {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final ObjectMapper mapper = JsonMapper.builder().build();

  /**
   * The effective config as the engine runs it, plus the values derived from it that people look
   * for first: the schedule, world size, local experts, tokens per rank S, capacity C, chunks.
   */
  ObjectNode effective(EngineConfig config) {
    ObjectNode node = (ObjectNode) tree(config);
    node.setAll((ObjectNode) tree(Derived.of(config)));
    return node;
  }

  /** What the effective config shows next to the engine's sections (/v3/api-docs: EffectiveConfig). */
  record Derived(ScheduleKind schedule, int worldSize, int localExperts, int tokensPerRank, int capacity,
      int chunksForward, int chunksBackward) {

    static Derived of(EngineConfig c) {
      return new Derived(c.schedule(), c.worldSize(), c.localExperts(), c.tokensPerRank(), c.capacity(),
          c.chunksForward(), c.chunksBackward());
    }
  }

  /** Violations as the API shows them, in a job's warnings and a 422's errors: {pointer, flag, rule, message}. */
  ArrayNode violations(List<Violation> violations) {
    return mapper.valueToTree(violations.stream()
        .map(v -> new Problems.FieldError(v.pointer(), v.flag(), v.rule(), v.message())).toList());
  }

  /**
   * The spec as given, in the given key order, each value as it was read: nulls ("not given") are
   * left out and numbers have their field's type ({@code 8.0} becomes {@code 8}), so the stored
   * spec is a valid {@code JobSpec} in /v3/api-docs.
   */
  ObjectNode specAsGiven(JsonNode sections, JobSpec spec) {
    return inGivenOrder(sections, (ObjectNode) tree(spec));
  }

  private static ObjectNode inGivenOrder(JsonNode given, ObjectNode read) {
    ObjectNode ordered = NODES.objectNode();
    for (String name : given.propertyNames()) {
      JsonNode value = read.get(name);
      if (value != null) {
        ordered.set(name, value.isObject() ? inGivenOrder(given.get(name), (ObjectNode) value) : value);
      }
    }
    return ordered;
  }

  /** Any record tree (a JobSpec, an EngineConfig) as JSON; null components are left out. */
  JsonNode tree(Object value) {
    return switch (value) {
      case null -> NODES.nullNode();
      case Record r -> record(r);
      case Enum<?> e -> NODES.stringNode(EngineJsonNames.of(e));
      default -> mapper.valueToTree(value);
    };
  }

  String write(JsonNode node) {
    return mapper.writeValueAsString(node);
  }

  JsonNode read(String json) {
    return json == null ? null : mapper.readTree(json);
  }

  private ObjectNode record(Record value) {
    ObjectNode node = NODES.objectNode();
    for (RecordComponent component : value.getClass().getRecordComponents()) {
      Object field;
      try {
        field = component.getAccessor().invoke(value);
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException("cannot read " + component, e);
      }
      if (field != null) {
        node.set(component.getName(), tree(field));
      }
    }
    return node;
  }
}
