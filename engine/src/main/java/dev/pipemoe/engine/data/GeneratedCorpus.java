package dev.pipemoe.engine.data;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * A deterministic English-like text for whole-model jobs that name no data file: sentences from a
 * small grammar over a few hundred words written for this class (no outside text). It has the
 * structure a byte-level model learns in a few hundred steps: a skewed letter distribution, a
 * fixed vocabulary of words, agreement between subject and verb, and punctuation at sentence and
 * paragraph ends. The same seed and size give the same bytes on every machine.
 */
public final class GeneratedCorpus {

  /** The size of the corpus jobs use: large enough that a tiny model does not memorise it. */
  public static final int DEFAULT_BYTES = 512 * 1024;

  /** The seed of the corpus jobs use; the training seed shuffles samples, not the text. */
  public static final long DEFAULT_SEED = 12;

  private static final String[] NAMES = {"the engineer", "the operator", "the scheduler", "the router",
      "a worker", "the service", "every rank", "the old compiler", "a small model", "the lead",
      "the reviewer", "a new device", "the gardener", "the baker", "my neighbour", "the river pilot"};
  private static final String[] PLURALS = {"the engineers", "the workers", "all ranks", "the experts",
      "two routers", "the bakers", "our neighbours", "the tokens", "many devices", "the reviewers"};
  private static final String[] VERBS_ONE = {"measures", "sends", "builds", "checks", "carries", "reads",
      "writes", "moves", "repairs", "watches", "counts", "bakes", "opens", "closes", "finds"};
  private static final String[] VERBS_MANY = {"measure", "send", "build", "check", "carry", "read", "write",
      "move", "repair", "watch", "count", "bake", "open", "close", "find"};
  private static final String[] ADJECTIVES = {"quiet", "fast", "heavy", "green", "narrow", "bright",
      "patient", "broken", "careful", "warm", "small", "large", "early", "late", "plain", "strange"};
  private static final String[] OBJECTS = {"bread", "the report", "a message", "the gradient", "the queue",
      "a window", "the bridge", "the garden", "a ledger", "the lamp", "the kettle", "a letter",
      "the harbour", "a ticket", "the schedule", "the boat", "a basket", "the clock", "the table"};
  private static final String[] PLACES = {"in the morning", "at night", "near the river", "before lunch",
      "after the storm", "on the hill", "in the kitchen", "behind the station", "under the bridge",
      "by the window", "during the test", "at the market"};
  private static final String[] ADVERBS = {"slowly", "carefully", "again", "twice", "quickly", "quietly",
      "at once", "every day"};
  private static final String[] JOINS = {"and then", "because", "while", "but", "so", "after"};

  private GeneratedCorpus() {}

  /** The corpus jobs without --data-path train on. */
  public static byte[] standard() {
    return Holder.STANDARD.clone();
  }

  /** {@code bytes} bytes of ASCII text from the grammar, determined by {@code seed}. */
  public static byte[] generate(long seed, int bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("a corpus needs at least one byte, was " + bytes);
    }
    SplittableRandom r = new SplittableRandom(seed);
    StringBuilder text = new StringBuilder(bytes + 200);
    int sentences = 0;
    while (text.length() < bytes) {
      text.append(sentence(r));
      sentences++;
      boolean paragraph = sentences % (3 + r.nextInt(4)) == 0;
      text.append(paragraph ? "\n\n" : " ");
    }
    byte[] all = text.toString().getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[bytes];
    System.arraycopy(all, 0, out, 0, bytes);
    return out;
  }

  private static String sentence(SplittableRandom r) {
    String s = clause(r);
    if (r.nextInt(3) == 0) {
      s += ", " + pick(r, JOINS) + " " + clause(r);
    }
    String end = r.nextInt(8) == 0 ? "?" : r.nextInt(6) == 0 ? "!" : ".";
    return Character.toUpperCase(s.charAt(0)) + s.substring(1) + end;
  }

  /** Subject, verb agreeing with it, object, and now and then an adverb or a place. */
  private static String clause(SplittableRandom r) {
    boolean plural = r.nextInt(3) == 0;
    int verb = skewed(r, VERBS_ONE.length);
    StringBuilder c = new StringBuilder(plural ? pick(r, PLURALS) : pick(r, NAMES)).append(' ')
        .append(plural ? VERBS_MANY[verb] : VERBS_ONE[verb]).append(' ');
    String object = OBJECTS[skewed(r, OBJECTS.length)];
    if (r.nextInt(2) == 0 && object.indexOf(' ') > 0) {
      int space = object.indexOf(' ');
      object = object.substring(0, space) + " " + pick(r, ADJECTIVES) + object.substring(space);
    }
    c.append(object);
    if (r.nextInt(4) == 0) {
      c.append(' ').append(pick(r, ADVERBS));
    }
    if (r.nextInt(3) == 0) {
      c.append(' ').append(PLACES[skewed(r, PLACES.length)]);
    }
    return c.toString();
  }

  private static String pick(SplittableRandom r, String[] words) {
    return words[skewed(r, words.length)];
  }

  /** An index in [0, n) with low indices likelier (about Zipf's law), as in real text. */
  private static int skewed(SplittableRandom r, int n) {
    return Math.min(n - 1, (int) (n * Math.pow(r.nextDouble(), 2)));
  }

  /** Built on first use, once per JVM. */
  private static final class Holder {
    static final byte[] STANDARD = generate(DEFAULT_SEED, DEFAULT_BYTES);
  }
}
