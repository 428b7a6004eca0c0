package dev.pipemoe.engine.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class GeneratedCorpusTest {

  @Test
  void theSameSeedGivesTheSameTextAndAnotherSeedAnother() {
    assertThat(GeneratedCorpus.generate(3, 10_000)).hasSize(10_000).isEqualTo(GeneratedCorpus.generate(3, 10_000))
        .isNotEqualTo(GeneratedCorpus.generate(4, 10_000));
    assertThat(GeneratedCorpus.standard()).hasSize(GeneratedCorpus.DEFAULT_BYTES)
        .isEqualTo(GeneratedCorpus.generate(GeneratedCorpus.DEFAULT_SEED, GeneratedCorpus.DEFAULT_BYTES));
  }

  /** Learnable: printable ASCII sentences over few distinct bytes, far from uniform (entropy). */
  @Test
  void itIsSentencesOverAFewDistinctBytes() {
    byte[] text = GeneratedCorpus.standard();
    String s = new String(text, StandardCharsets.US_ASCII);
    assertThat(s).startsWith(s.substring(0, 1).toUpperCase()).contains(". ").contains("\n\n");
    long[] counts = new long[256];
    for (byte b : text) {
      counts[b & 0xFF]++;
    }
    double entropy = 0;
    int distinct = 0;
    for (long c : counts) {
      if (c > 0) {
        distinct++;
        double p = (double) c / text.length;
        entropy -= p * Math.log(p);
      }
    }
    assertThat(distinct).isBetween(20, 60);
    assertThat(entropy).as("unigram entropy in nats (uniform bytes: ln 256 = 5.55)").isLessThan(3.2);
    assertThat(s.chars()).allMatch(c -> c == '\n' || (c >= 32 && c < 127));
  }

  @Test
  void sizeMustBePositive() {
    assertThatThrownBy(() -> GeneratedCorpus.generate(1, 0)).hasMessageContaining("at least one byte");
  }
}
