package dev.pipemoe.engine.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MindSpeedArgsPropertiesTest {

  @Test
  void parseOfFormatGivesTheSpecBack() {
    Property.forAll(2000, SpecGen::tokenSpec, spec ->
        assertThat(MindSpeedArgs.parse(MindSpeedArgs.format(spec))).isEqualTo(MindSpeedArgs.normalize(spec)));
  }

  @Test
  void normalizedSpecsRoundTripExactly() {
    Property.forAll(500, SpecGen::tokenSpec, spec -> {
      JobSpec normal = MindSpeedArgs.normalize(spec);
      assertThat(MindSpeedArgs.parse(MindSpeedArgs.format(normal))).isEqualTo(normal);
    });
  }

  /** A spec and one way of writing it. */
  record Written(JobSpec spec, String args) {}

  static Written written(SplittableRandom r) {
    JobSpec spec = SpecGen.tokenSpec(r);
    return new Written(spec, scrambled(spec, r));
  }

  /** Any way of writing a spec (order, =, =true, spare whitespace) formats to the same canonical form. */
  @Test
  void formatOfParseIsCanonical() {
    Property.forAll(1000, MindSpeedArgsPropertiesTest::written, w -> {
      assertThat(MindSpeedArgs.parse(w.args())).isEqualTo(MindSpeedArgs.normalize(w.spec()));
      assertThat(MindSpeedArgs.format(MindSpeedArgs.parse(w.args()))).isEqualTo(MindSpeedArgs.format(w.spec()));
    });
  }

  /** Token soup of known and unknown flags and values: read and validate only report, never throw. */
  @Test
  void readingArbitraryArgsNeverThrows() {
    AtomicInteger read = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    Property.forAll(2000, MindSpeedArgsPropertiesTest::soup, args -> {
      MindSpeedArgs.Parsed parsed = MindSpeedArgs.read(args);
      assertThat(parsed.spec() == null).isEqualTo(!parsed.errors().isEmpty());
      (parsed.spec() == null ? refused : read).incrementAndGet();
      Validator.validateArgs(args);
    });
    // the soup must exercise both outcomes, or the property says little
    assertThat(read.get()).as("soups read without errors").isPositive();
    assertThat(refused.get()).as("soups refused with errors").isPositive();
  }

  private static final List<String> WORDS = words();

  private static List<String> words() {
    List<String> words = new ArrayList<>(MindSpeedArgs.FLAGS.keySet());
    words.addAll(List.of("--num-attention-heads", "--use-flash-attn", "--pipeline-model-parallel-size", "--nope",
        "--", "-", "\\", "1", "0", "-1", "2.5", "NaN", "x", "=", "true", "false", "99999999999", "deepspeed_moe"));
    return List.copyOf(words);
  }

  /** Up to 20 words, each a known or unknown flag or value, or two of them glued with =. */
  static String soup(SplittableRandom r) {
    List<String> words = Gen.listOf(r, 20, g -> g.nextBoolean() ? Gen.oneOf(g, WORDS)
        : Gen.oneOf(g, WORDS) + "=" + Gen.oneOf(g, WORDS));
    return String.join(" ", words);
  }

  /** The spec's canonical tokens reordered, with random syntax for each flag. */
  private static String scrambled(JobSpec spec, SplittableRandom random) {
    List<String> flags = new ArrayList<>();
    for (String part : splitFlags(MindSpeedArgs.format(spec))) {
      int space = part.indexOf(' ');
      if (space > 0 && random.nextBoolean()) {
        part = part.substring(0, space) + "=" + part.substring(space + 1); // --flag=value
      } else if (space < 0 && !part.contains("=") && isBooleanField(part) && random.nextBoolean()) {
        part = part + "=true";
      }
      flags.add(part);
    }
    Collections.shuffle(flags, random);
    return String.join(random.nextBoolean() ? " \t " : "\n", flags);
  }

  /** Splits a canonical string into "--flag" or "--flag value" parts (values never start with --). */
  private static List<String> splitFlags(String canonical) {
    List<String> parts = new ArrayList<>();
    for (String token : ArgsReader.tokens(canonical)) {
      if (token.startsWith("--") && token.length() > 2 || parts.isEmpty()) {
        parts.add(token);
      } else {
        parts.set(parts.size() - 1, parts.get(parts.size() - 1) + " " + token);
      }
    }
    return parts;
  }

  private static boolean isBooleanField(String flag) {
    MindSpeedArgs.Flag f = MindSpeedArgs.FLAGS.get(flag);
    return f != null && f.constant() == null && f.field().type == Boolean.class;
  }
}
