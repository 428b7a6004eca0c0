package dev.pipemoe.engine.device;

import java.util.List;

/**
 * How long collectives take on an emulated fabric. Each rank has link sets; a collective occupies
 * the link set of its communicator on every member. Alone on a link, a collective that makes a
 * rank send {@code b} bytes takes {@code latency + b / bandwidth}. When {@code m > 1} collectives
 * share a link, each progresses at {@code bandwidth / (m * congestion)}; a collective spanning
 * several ranks progresses at the rate of its slowest member's link.
 *
 * @param congestion the factor (&ge; 1) by which concurrent transfers on one link slow each other
 *     beyond fair sharing
 * @param links the link sets; a set absent from the list, or with bandwidth 0, costs no time
 */
public record LinkModel(double congestion, List<Link> links) {

  public LinkModel {
    if (!(congestion >= 1.0)) {
      throw new IllegalArgumentException("congestion must be >= 1, was " + congestion);
    }
    links = List.copyOf(links);
  }

  /** Collectives cost only their real copy time. */
  public static LinkModel unmodelled() {
    return new LinkModel(1.0, List.of());
  }

  /**
   * @param id the link set (0..7)
   * @param bandwidthBytesPerSecond per-rank bandwidth; 0 means unmodelled
   * @param latencySeconds the start-up latency alpha paid once per collective
   */
  public record Link(int id, double bandwidthBytesPerSecond, double latencySeconds) {
    public Link {
      if (id < 0 || id > 7) {
        throw new IllegalArgumentException("link set id must be in 0..7, was " + id);
      }
      if (!(bandwidthBytesPerSecond >= 0) || !(latencySeconds >= 0)) {
        throw new IllegalArgumentException("bandwidth and latency must be >= 0");
      }
    }
  }
}
