package dev.pipemoe.engine.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Lengths of unions of time intervals: how long something was busy, counting overlap once. */
public final class Intervals {
  private Intervals() {}

  /** Total length of the union of [start, end) intervals, clipped to [from, to). */
  public static long unionLength(List<long[]> intervals, long from, long to) {
    List<long[]> sorted = new ArrayList<>(intervals);
    sorted.sort(Comparator.comparingLong(x -> x[0]));
    long total = 0;
    long curStart = Long.MIN_VALUE;
    long curEnd = Long.MIN_VALUE;
    for (long[] iv : sorted) {
      long s = Math.max(iv[0], from);
      long e = Math.min(iv[1], to);
      if (e <= s) {
        continue;
      }
      if (s > curEnd) {
        total += Math.max(0, curEnd - curStart);
        curStart = s;
        curEnd = e;
      } else {
        curEnd = Math.max(curEnd, e);
      }
    }
    total += Math.max(0, curEnd - curStart);
    return total;
  }
}
