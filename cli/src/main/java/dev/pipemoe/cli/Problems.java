package dev.pipemoe.cli;

import tools.jackson.databind.JsonNode;

/**
 * Problem details (RFC 9457, docs/service.md §6) in words: the title and detail, then every
 * violated rule on a line of its own with the field it is about, then the warnings.
 */
final class Problems {
  private Problems() {}

  static String format(Api.Failure f) {
    JsonNode p = f.problem;
    if (!p.isObject()) {
      String body = p.isString() ? p.asString().strip() : "";
      return "error: " + f.getMessage() + (body.isEmpty() ? "" : "\n  " + body);
    }
    StringBuilder sb = new StringBuilder();
    sb.append(f.status == 422 || f.status == 400 ? "refused: " : "error: ")
        .append(p.path("title").asString("HTTP " + f.status)).append(" (").append(f.status).append(')');
    if (p.hasNonNull("detail")) {
      sb.append(": ").append(p.path("detail").asString());
    }
    if (p.hasNonNull("parameter")) {
      sb.append("\n  parameter ").append(p.path("parameter").asString());
    }
    if (p.path("errors").size() > 0) {
      sb.append("\n").append(p.path("errors").size()).append(p.path("errors").size() == 1 ? " rule:" : " rules:");
      for (JsonNode e : p.path("errors")) {
        sb.append("\n  ").append(rule(e));
      }
    }
    if (p.path("warnings").size() > 0) {
      sb.append("\nwarnings:");
      for (JsonNode w : p.path("warnings")) {
        sb.append("\n  ").append(rule(w));
      }
    }
    return sb.toString();
  }

  /** One rule: {@code V2  /pipeExperts/multiStream (--pipe-experts-multi-stream): message}. */
  static String rule(JsonNode e) {
    return rule(e.path("rule").asString("?"), e.path("pointer").asString(""),
        e.hasNonNull("flag") ? e.path("flag").asString() : null, e.path("message").asString(""));
  }

  /** The same line from the rule's parts ({@code pointer} may be empty, {@code flag} null). */
  static String rule(String rule, String pointer, String flag, String message) {
    if (message.startsWith(rule + ": ")) {
      message = message.substring(rule.length() + 2);  // the engine's messages start with their rule
    }
    String field = pointer;
    if (flag != null) {
      field += (field.isEmpty() ? "" : " ") + "(" + flag + ")";
    }
    return rule + "  " + (field.isEmpty() ? "" : field + ": ") + message;
  }
}
