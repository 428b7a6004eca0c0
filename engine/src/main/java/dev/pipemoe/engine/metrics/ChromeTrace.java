package dev.pipemoe.engine.metrics;

import dev.pipemoe.engine.device.OpRecord;
import java.util.List;
import java.util.Map;

/**
 * Step timelines as Chrome trace JSON (chrome://tracing, Perfetto): one process per rank, one
 * thread per stream or communicator queue, one complete event ("ph":"X") per op.
 */
public final class ChromeTrace {
  private ChromeTrace() {}

  /** @param timelines per rank, its records; {@code origin} is the time shown as 0 */
  public static String json(Map<Integer, List<OpRecord>> timelines, long origin) {
    StringBuilder sb = new StringBuilder("{\"traceEvents\":[");
    boolean first = true;
    for (var e : timelines.entrySet()) {
      for (OpRecord r : e.getValue()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        String name = r.label() == null ? r.op() : r.label() + " " + r.op();
        sb.append("{\"name\":").append(quote(name))
            .append(",\"cat\":").append(quote(r.op()))
            .append(",\"ph\":\"X\",\"pid\":").append(e.getKey())
            .append(",\"tid\":").append(quote(r.stream()))
            .append(",\"ts\":").append(String.format("%.3f", (r.startNanos() - origin) / 1e3))
            .append(",\"dur\":").append(String.format("%.3f", r.durationNanos() / 1e3));
        if (r.bytes() > 0) {
          sb.append(",\"args\":{\"bytes\":").append(r.bytes()).append(",\"modelled_us\":")
              .append(String.format("%.3f", r.modelledNanos() / 1e3)).append('}');
        }
        sb.append('}');
      }
    }
    return sb.append("],\"displayTimeUnit\":\"ms\"}").toString();
  }

  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
