package dev.pipemoe.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Jobs side by side: each one's TFLOP/s per device, its gain over the first job, its mean step
 * time and exposed communication (from the summary, docs/service.md §5.3), and then only the
 * fields of the effective config's sections (and the schedule) in which the jobs differ, so that
 * what was varied stands out.
 */
final class Compare {
  /** One job as the table needs it: the job (for its name and effective config) and its summary. */
  record Run(JsonNode job, JsonNode summary) {
    double tflops() {
      return summary.path("tflopsPerDevice").asDouble(Double.NaN);
    }
  }

  private final List<Run> runs;
  private final List<Map<String, String>> configs = new ArrayList<>();
  private final List<String> differing;

  Compare(List<Run> runs) {
    this.runs = List.copyOf(runs);
    for (Run r : runs) {
      Map<String, String> flat = new LinkedHashMap<>();
      flatten("", r.job().path("effective"), flat);
      // the spec's sections and the schedule; the figures derived from them (worldSize, capacity,
      // chunksForward, ...) would only repeat a difference already shown
      flat.keySet().removeIf(k -> !k.contains(".") && !k.equals("schedule"));
      configs.add(flat);
    }
    Set<String> fields = new LinkedHashSet<>();
    configs.forEach(c -> fields.addAll(c.keySet()));
    differing = fields.stream().filter(f -> configs.stream().map(c -> c.getOrDefault(f, "")).distinct().count() > 1)
        .toList();
  }

  List<String> differing() {
    return differing;
  }

  /** The gain of run i over the first run, as a fraction (0.12 = 12 % faster); NaN if unknown. */
  double gain(int i) {
    return runs.get(i).tflops() / runs.getFirst().tflops() - 1;
  }

  Table text() {
    Table t = new Table(header(List.of("JOB", "ID", "STATE", "TFLOP/s/DEVICE", "GAIN", "STEP", "EXPOSED COMM")));
    for (int i = 0; i < runs.size(); i++) {
      Run r = runs.get(i);
      double g = gain(i);
      List<String> row = new ArrayList<>(List.of(r.job().path("name").asString(), r.job().path("id").asString(),
          r.job().path("state").asString(), Table.sig(r.tflops(), 4),
          i == 0 ? "(base)" : Double.isNaN(g) ? "" : (g >= 0 ? "+" : "") + Table.fixed(g * 100, 1) + " %",
          stepMs(r).isEmpty() ? "" : stepMs(r) + " ms", percent(r.summary().path("exposedCommShare"))));
      int k = i;
      differing.forEach(f -> row.add(configs.get(k).getOrDefault(f, "")));
      t.row(row);
    }
    return t;
  }

  /** The same columns with full ids and unrounded figures (step time in seconds, shares as fractions). */
  Table csv() {
    Table t = new Table(header(List.of("job", "id", "state", "tflopsPerDevice", "gain", "stepSeconds", "exposedCommShare")));
    for (int i = 0; i < runs.size(); i++) {
      Run r = runs.get(i);
      List<String> row = new ArrayList<>(List.of(r.job().path("name").asString(), r.job().path("id").asString(),
          r.job().path("state").asString(), raw(r.summary().path("tflopsPerDevice")), i == 0 ? "0" : raw(gain(i)),
          raw(r.summary().path("stepSeconds").path("mean")), raw(r.summary().path("exposedCommShare"))));
      int k = i;
      differing.forEach(f -> row.add(configs.get(k).getOrDefault(f, "")));
      t.row(row);
    }
    return t;
  }

  ArrayNode json() {
    ArrayNode a = Api.JSON.createArrayNode();
    for (int i = 0; i < runs.size(); i++) {
      Run r = runs.get(i);
      ObjectNode o = a.addObject();
      o.put("id", r.job().path("id").asString());
      o.put("name", r.job().path("name").asString());
      o.put("state", r.job().path("state").asString());
      o.set("tflopsPerDevice", r.summary().path("tflopsPerDevice").isNumber() ? r.summary().path("tflopsPerDevice") : null);
      if (!Double.isNaN(gain(i))) {
        o.put("gain", i == 0 ? 0 : gain(i));
      }
      o.set("stepSeconds", r.summary().path("stepSeconds").path("mean").isNumber() ? r.summary().path("stepSeconds").path("mean") : null);
      o.set("exposedCommShare", r.summary().path("exposedCommShare").isNumber() ? r.summary().path("exposedCommShare") : null);
      ObjectNode diff = o.putObject("differing");
      int k = i;
      differing.forEach(f -> diff.put(f, configs.get(k).getOrDefault(f, null)));
    }
    return a;
  }

  private List<String> header(List<String> fixed) {
    List<String> h = new ArrayList<>(fixed);
    h.addAll(differing);
    return h;
  }

  /** Leaf values by dotted path: pipeExperts.multiData = 2. */
  static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
      }
    } else if (!node.isMissingNode() && !node.isNull()) {
      out.put(prefix, node.isValueNode() ? node.asString() : node.toString());
    }
  }

  private static String stepMs(Run r) {
    JsonNode mean = r.summary().path("stepSeconds").path("mean");
    return mean.isNumber() ? Table.fixed(mean.asDouble() * 1e3, 1) : "";
  }

  private static String percent(JsonNode share) {
    return share.isNumber() ? Progress.percent(share.asDouble()) : "";
  }

  private static String raw(JsonNode n) {
    return n.isNumber() ? n.asString() : "";
  }

  private static String raw(double v) {
    return Double.isNaN(v) ? "" : Double.toString(v);
  }
}
