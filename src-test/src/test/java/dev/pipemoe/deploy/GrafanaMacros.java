package dev.pipemoe.deploy;

import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What Grafana does to a query before it sends it: variables and the macros our dashboards use,
 * replaced by concrete values. Anything else starting with {@code $} is an error, so a dashboard
 * cannot use a macro this class would silently leave in place.
 */
final class GrafanaMacros {

  private static final Pattern TIME_GROUP =
      Pattern.compile("\\$__timeGroup(Alias)?\\(\\s*([^,()]+?)\\s*,\\s*'?(\\d+)([smhd])'?\\s*\\)");
  private static final Pattern TIME_FILTER = Pattern.compile("\\$__timeFilter\\(\\s*([^()]+?)\\s*\\)");
  private static final Pattern LEFT = Pattern.compile("\\$[{A-Za-z_]");

  private GrafanaMacros() {}

  /**
   * PromQL as Grafana's Prometheus data source sends it: {@code $__rate_interval} and
   * {@code $__range} as a window long enough to hold the whole test run, and the dashboard's
   * variables.
   */
  static String promql(String expr, String window, Map<String, String> variables) {
    String out = expr.replace("$__rate_interval", window).replace("$__range", window)
        .replace("$__interval", "15s");
    return variables(out, variables);
  }

  /**
   * SQL as Grafana's PostgreSQL data source sends it: the time range as literals, time groups as
   * epoch seconds (as Grafana writes them), and the dashboard's variables.
   */
  static String sql(String sql, Instant from, Instant to, Map<String, String> variables) {
    Matcher g = TIME_GROUP.matcher(sql);
    StringBuilder grouped = new StringBuilder();
    while (g.find()) {
      long seconds = Long.parseLong(g.group(3)) * switch (g.group(4)) {
        case "s" -> 1;
        case "m" -> 60;
        case "h" -> 3600;
        default -> 86400;
      };
      String expr = "floor(extract(epoch from " + g.group(2) + ")/" + seconds + ")*" + seconds
          + (g.group(1) != null ? " AS \"time\"" : "");
      g.appendReplacement(grouped, Matcher.quoteReplacement(expr));
    }
    g.appendTail(grouped);
    String range = "BETWEEN '" + from + "' AND '" + to + "'";
    String out = TIME_FILTER.matcher(grouped).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + " " + range))
        .replace("$__timeFrom()", "'" + from + "'").replace("$__timeTo()", "'" + to + "'");
    return variables(out, variables);
  }

  private static String variables(String text, Map<String, String> variables) {
    String out = text;
    for (var v : variables.entrySet()) {
      out = out.replace("${" + v.getKey() + "}", v.getValue()).replace("$" + v.getKey(), v.getValue());
    }
    Matcher left = LEFT.matcher(out);
    if (left.find()) {
      throw new IllegalArgumentException("a Grafana variable or macro this test does not know, at '"
          + out.substring(left.start(), Math.min(out.length(), left.start() + 30)) + "' in: " + text);
    }
    return out;
  }
}
