package dev.pipemoe.service;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Job bodies for tests. The base is the engine tests' clean spec (deepspeed_moe, E 8, tp 2 with SP,
 * ep 4, pipe-experts on: world 8, nle 2, S 256, C 64; no error, no warning), changed by pointer.
 */
public final class Specs {

  private Specs() {}

  public static ObjectNode valid(String name) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("name", name);
    body.putObject("model").put("moeModelType", "deepspeed_moe").put("numExperts", 8);
    body.putObject("parallel").put("tensor", 2).put("expert", 4).put("sequenceParallel", true);
    body.putObject("pipeExperts").put("enabled", true);
    return body;
  }

  /** The base with {@code pointer, value} pairs applied ({@code /section/field}); a null value removes the field. */
  public static ObjectNode with(String name, Object... changes) {
    ObjectNode body = valid(name);
    for (int i = 0; i < changes.length; i += 2) {
      set(body, (String) changes[i], changes[i + 1]);
    }
    return body;
  }

  public static void set(ObjectNode body, String pointer, Object value) {
    String[] parts = pointer.substring(1).split("/");
    ObjectNode parent = body;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonNode child = parent.get(parts[i]);
      parent = child instanceof ObjectNode object ? object : parent.putObject(parts[i]);
    }
    String field = parts[parts.length - 1];
    switch (value) {
      case null -> parent.remove(field);
      case Integer v -> parent.put(field, v);
      case Long v -> parent.put(field, v);
      case Double v -> parent.put(field, v);
      case Boolean v -> parent.put(field, v);
      case String v -> parent.put(field, v);
      case JsonNode v -> parent.set(field, v);
      default -> throw new IllegalArgumentException("no JSON for " + value.getClass());
    }
  }
}
