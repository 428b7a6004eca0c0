package dev.pipemoe.engine.config;

import java.util.Collection;
import java.util.Locale;

/** "Did you mean": the known name closest to a misspelt one, for flags and JSON fields alike. */
public final class Names {
  private Names() {}

  /**
   * The candidate with the fewest edits from {@code name}, ignoring case, if it is within {@code
   * maxEdits}; null otherwise. Ties go to the candidate met first.
   */
  public static String closest(String name, Collection<String> candidates, int maxEdits) {
    String lower = name.toLowerCase(Locale.ROOT);
    String best = null;
    int bestDistance = maxEdits + 1;
    for (String candidate : candidates) {
      int d = distance(lower, candidate.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return best;
  }

  /** Levenshtein distance, for names of a few dozen characters at most. */
  static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] t = previous;
      previous = current;
      current = t;
    }
    return previous[b.length()];
  }
}
