package dev.pipemoe.engine.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class MindSpeedArgsPropertiesTest {

  @Provide
  Arbitrary<JobSpec> specs() {
    return SpecArbitraries.tokenSpec();
  }

  @Property(tries = 2000)
  void parseOfFormatGivesTheSpecBack(@ForAll("specs") JobSpec spec) {
    assertThat(MindSpeedArgs.parse(MindSpeedArgs.format(spec))).isEqualTo(MindSpeedArgs.normalize(spec));
  }

  @Property(tries = 500)
  void normalizedSpecsRoundTripExactly(@ForAll("specs") JobSpec spec) {
    JobSpec normal = MindSpeedArgs.normalize(spec);
    assertThat(MindSpeedArgs.parse(MindSpeedArgs.format(normal))).isEqualTo(normal);
  }

  /** Any way of writing a spec (order, =, =true, spare whitespace) formats to the same canonical form. */
  @Property(tries = 1000)
  void formatOfParseIsCanonical(@ForAll("specs") JobSpec spec, @ForAll long seed) {
    String written = scrambled(spec, new Random(seed));
    assertThat(MindSpeedArgs.parse(written)).isEqualTo(MindSpeedArgs.normalize(spec));
    assertThat(MindSpeedArgs.format(MindSpeedArgs.parse(written))).isEqualTo(MindSpeedArgs.format(spec));
  }

  /** Token soup of known and unknown flags and values: read and validate only report, never throw. */
  @Property(tries = 2000)
  void readingArbitraryArgsNeverThrows(@ForAll("soup") String args) {
    MindSpeedArgs.Parsed parsed = MindSpeedArgs.read(args);
    assertThat(parsed.spec() == null).isEqualTo(!parsed.errors().isEmpty());
    Validator.validateArgs(args);
  }

  @Provide
  Arbitrary<String> soup() {
    List<String> words = new ArrayList<>(MindSpeedArgs.FLAGS.keySet());
    words.addAll(List.of("--num-attention-heads", "--use-flash-attn", "--pipeline-model-parallel-size", "--nope",
        "--", "-", "\\", "1", "0", "-1", "2.5", "NaN", "x", "=", "true", "false", "99999999999", "deepspeed_moe"));
    Arbitrary<String> word = Arbitraries.of(words);
    Arbitrary<String> glued = word.flatMap(w -> word.map(v -> w + "=" + v));
    return Arbitraries.oneOf(word, glued).list().ofMaxSize(20).map(l -> String.join(" ", l));
  }

  /** The spec's canonical tokens reordered, with random syntax for each flag. */
  private static String scrambled(JobSpec spec, Random random) {
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
