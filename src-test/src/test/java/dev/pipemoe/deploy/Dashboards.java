package dev.pipemoe.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Grafana dashboards under helm/pipemoe/dashboards: the one copy the chart's ConfigMaps and
 * the compose file's Grafana both load.
 */
final class Dashboards {
  static final Path DIR = Chart.DIR.resolve("dashboards");
  /** The data source uids the dashboards name; the compose provisioning defines both. */
  static final String PROMETHEUS = "prometheus";
  static final String POSTGRES = "postgres";

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private Dashboards() {}

  record Dashboard(String file, JsonNode json) {}

  /**
   * A query of a panel's target or of a template variable, as the dashboard stores it, with what
   * Grafana needs of its result: the panel type and the target's format ("variable" for variables).
   */
  record Query(String dashboard, String where, String datasource, String text, String panelType,
      String format) {
    boolean promql() {
      return PROMETHEUS.equals(datasource);
    }

    @Override
    public String toString() {
      return dashboard + " / " + where;
    }
  }

  static List<Dashboard> all() {
    try (Stream<Path> files = Files.list(DIR)) {
      List<Dashboard> all = new ArrayList<>();
      for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        all.add(new Dashboard(f.getFileName().toString(), JSON.readTree(Files.readString(f))));
      }
      return all;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A string node's value; "" for anything else (missing, null, a number). */
  static String text(JsonNode node) {
    return node.isString() ? node.stringValue() : "";
  }

  /** Every panel, rows' nested panels included. */
  static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> panels = new ArrayList<>();
    for (JsonNode p : dashboard.path("panels")) {
      panels.add(p);
      for (JsonNode nested : p.path("panels")) {
        panels.add(nested);
      }
    }
    return panels;
  }

  /** Every query: each panel target's PromQL or SQL, and each query variable's. */
  static List<Query> queries() {
    List<Query> queries = new ArrayList<>();
    for (Dashboard d : all()) {
      for (JsonNode panel : panels(d.json())) {
        for (JsonNode t : panel.path("targets")) {
          String uid = text(t.path("datasource").path("uid"));
          if (uid.isEmpty()) {
            uid = text(panel.path("datasource").path("uid"));
          }
          String query = PROMETHEUS.equals(uid) ? text(t.path("expr")) : text(t.path("rawSql"));
          queries.add(new Query(d.file(), "panel '" + text(panel.path("title")) + "' " + text(t.path("refId")),
              uid, query, text(panel.path("type")), text(t.path("format"))));
        }
      }
      for (JsonNode v : d.json().path("templating").path("list")) {
        if ("query".equals(text(v.path("type")))) {
          JsonNode q = v.path("query");
          String query = q.isString() ? q.stringValue() : text(q.path("query")) + text(q.path("rawSql"));
          queries.add(new Query(d.file(), "variable $" + text(v.path("name")),
              text(v.path("datasource").path("uid")), query, "variable", "variable"));
        }
      }
    }
    return queries;
  }
}
