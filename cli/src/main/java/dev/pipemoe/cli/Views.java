package dev.pipemoe.cli;

import tools.jackson.databind.JsonNode;

/** The service's answers in words and tables, for the text output. */
final class Views {
  private Views() {}

  /** A job event: {@code 19:50:08  QUEUED → RUNNING  LEASED  attempt 1 of 3 leased by worker vm (8 ranks)}. */
  static String event(JsonNode e) {
    return time(e.path("at").asString("")) + "  " + move(e) + "  " + e.path("reason").asString() + "  "
        + e.path("message").asString();
  }

  static String move(JsonNode e) {
    return (e.hasNonNull("from") ? e.path("from").asString() + " → " : "→ ") + e.path("to").asString();
  }

  /** The time of day of an ISO instant (2026-11-27T19:50:08.294303Z → 19:50:08). */
  static String time(String instant) {
    return instant.length() >= 19 ? instant.substring(11, 19) : instant;
  }

  /** An ISO instant to the second, readable: 2026-11-27 19:50:08. */
  static String instant(String instant) {
    return instant.length() >= 19 ? instant.substring(0, 10) + " " + instant.substring(11, 19) : instant;
  }

  /** The summary of an attempt (docs/service.md §5.3), a few lines. */
  static String summary(JsonNode job, JsonNode s) {
    StringBuilder sb = new StringBuilder();
    sb.append(job.path("name").asString()).append(" (").append(job.path("id").asString()).append("): ")
        .append(s.path("state").asString()).append(", ").append(s.path("stepsDone").asInt()).append(" of ")
        .append(s.path("steps").asInt()).append(" steps");
    if (s.path("attempt").asInt() > 0) {
      sb.append(" (attempt ").append(s.path("attempt").asInt()).append(", ").append(s.path("ranks").asInt()).append(" ranks)");
    }
    sb.append('\n');
    JsonNode t = s.path("stepSeconds");
    line(sb, "TFLOP/s per device", num(s, "tflopsPerDevice", 4) + " (hardware " + num(s, "hardwareTflopsPerDevice", 4)
        + "), over " + s.path("measuredSteps").asInt() + " measured steps");
    line(sb, "step time", ms(t.path("mean")) + " mean, p50 " + ms(t.path("p50")) + ", p90 " + ms(t.path("p90"))
        + ", p99 " + ms(t.path("p99")));
    line(sb, "exposed comm", Progress.percent(s.path("exposedCommShare").asDouble(Double.NaN)) + " of the step");
    line(sb, "tokens/s", num(s, "tokensPerSecond", 5));
    JsonNode trend = s.path("lossTrend");
    line(sb, "loss", num(s, "lastLoss", 4) + " (last step)" + (trend.isObject()
        ? "; mean of the first " + trend.path("window").asInt() + " steps " + num(trend, "firstMean", 4)
            + ", of the last " + trend.path("window").asInt() + " " + num(trend, "lastMean", 4) : ""));
    line(sb, "dropped tokens", s.hasNonNull("droppedTokens") ? s.path("droppedTokens").asString() : "?");
    if (s.hasNonNull("etaSeconds")) {
      line(sb, "ETA", Progress.duration(s.path("etaSeconds").asDouble()));
    }
    return sb.toString();
  }

  /** A job: what it is, where it stands, and why it waits or what its rules warned about. */
  static String job(JsonNode j) {
    StringBuilder sb = new StringBuilder();
    sb.append(j.path("name").asString()).append(" (").append(j.path("id").asString()).append(")\n");
    line(sb, "state", j.path("state").asString() + (j.path("attempt").asInt() > 0
        ? ", attempt " + j.path("attempt").asInt() + " of " + j.path("maxAttempts").asInt() : ""));
    line(sb, "owner", j.path("owner").asString());
    JsonNode eff = j.path("effective");
    line(sb, "schedule", eff.path("schedule").asString() + " on " + eff.path("resources").path("devices").asInt() + " "
        + eff.path("resources").path("deviceType").asString() + " devices, " + eff.path("training").path("steps").asInt()
        + " steps");
    line(sb, "created", instant(j.path("createdAt").asString("")));
    if (j.hasNonNull("startedAt")) {
      line(sb, "started", instant(j.path("startedAt").asString()));
    }
    if (j.hasNonNull("finishedAt")) {
      line(sb, "finished", instant(j.path("finishedAt").asString()));
    }
    if (j.hasNonNull("waiting")) {
      line(sb, "waiting", j.path("waiting").path("reason").asString() + ": " + j.path("waiting").path("message").asString());
    }
    if (j.hasNonNull("args")) {
      line(sb, "args", j.path("args").asString());
    }
    warnings(sb, j);
    return sb.toString();
  }

  /** The warnings and notes of a submit or dry-run answer. */
  static void warnings(StringBuilder sb, JsonNode j) {
    if (j.path("warnings").size() > 0) {
      sb.append("warnings:\n");
      for (JsonNode w : j.path("warnings")) {
        sb.append("  ").append(Problems.rule(w)).append('\n');
      }
    }
  }

  static void notes(StringBuilder sb, JsonNode j) {
    if (j.path("notes").size() > 0) {
      sb.append("notes:\n");
      for (JsonNode n : j.path("notes")) {
        sb.append("  ").append(n.asString()).append('\n');
      }
    }
  }

  static Table jobs(JsonNode page) {
    Table t = new Table("ID", "NAME", "STATE", "SCHEDULE", "DEVICES", "ATTEMPT", "CREATED");
    for (JsonNode j : page.path("jobs")) {
      t.row(j.path("id").asString(), j.path("name").asString(), j.path("state").asString(),
          j.path("schedule").asString(), j.path("devices").asInt() + " " + j.path("deviceType").asString(),
          j.path("attempt").asString(), instant(j.path("createdAt").asString("")));
    }
    return t;
  }

  static Table events(JsonNode events) {
    Table t = new Table("AT", "STATE", "REASON", "ATTEMPT", "ACTOR", "MESSAGE");
    for (JsonNode e : events.path("events")) {
      t.row(instant(e.path("at").asString("")), move(e), e.path("reason").asString(), e.path("attempt").asString(),
          e.path("actor").asString(), e.path("message").asString());
    }
    return t;
  }

  static Table workers(JsonNode fleet) {
    Table t = new Table("NAME", "STATE", "DEVICES", "FREE", "RUNNING", "LAST HEARTBEAT", "ID");
    for (JsonNode w : fleet.path("workers")) {
      t.row(w.path("name").asString(), w.path("state").asString(),
          w.path("devices").asInt() + " " + w.path("deviceType").asString(), w.path("freeDevices").asString(),
          w.path("liveAttempts").asString(), instant(w.path("lastHeartbeatAt").asString("")), w.path("id").asString());
    }
    return t;
  }

  static Table tokens(JsonNode list) {
    Table t = new Table("ID", "OWNER", "ROLE", "HINT", "CREATED", "REVOKED", "DESCRIPTION");
    for (JsonNode k : list.path("tokens")) {
      t.row(k.path("id").asString(), k.path("owner").asString(), k.path("role").asString(), k.path("hint").asString(),
          instant(k.path("createdAt").asString("")), instant(k.path("revokedAt").asString("")),
          k.path("description").asString());
    }
    return t;
  }

  private static void line(StringBuilder sb, String label, String value) {
    sb.append("  ").append(label).append(" ".repeat(Math.max(1, 20 - label.length()))).append(value).append('\n');
  }

  private static String num(JsonNode n, String field, int digits) {
    return n.hasNonNull(field) ? Table.sig(n.path(field).asDouble(), digits) : "?";
  }

  private static String ms(JsonNode seconds) {
    return seconds.isNumber() ? Table.fixed(seconds.asDouble() * 1e3, 1) + " ms" : "?";
  }
}
