package dev.pipemoe.service.jobs;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.Named;
import dev.pipemoe.engine.config.Violation;
import dev.pipemoe.engine.device.DType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Locale;
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
    node.put("schedule", config.schedule().jsonName());
    node.put("worldSize", config.worldSize());
    node.put("localExperts", config.localExperts());
    node.put("tokensPerRank", config.tokensPerRank());
    node.put("capacity", config.capacity());
    node.put("chunksForward", config.chunksForward());
    node.put("chunksBackward", config.chunksBackward());
    return node;
  }

  ArrayNode violations(List<Violation> violations) {
    ArrayNode array = NODES.arrayNode();
    for (Violation v : violations) {
      ObjectNode node = array.addObject();
      node.put("pointer", v.pointer());
      if (v.flag() != null) {
        node.put("flag", v.flag());
      }
      node.put("rule", v.rule());
      node.put("message", v.message());
    }
    return array;
  }

  /** Any record tree (a JobSpec, an EngineConfig) as JSON; null components are left out. */
  JsonNode tree(Object value) {
    return switch (value) {
      case null -> NODES.nullNode();
      case Record r -> record(r);
      case Named n -> NODES.stringNode(n.jsonName());
      case DType d -> NODES.stringNode(switch (d) {
        case F32 -> "fp32"; // the spec's names for the dtypes it accepts
        case BF16 -> "bf16";
        case I32 -> "i32";
      });
      case Enum<?> e -> NODES.stringNode(e.name().toLowerCase(Locale.ROOT));
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
