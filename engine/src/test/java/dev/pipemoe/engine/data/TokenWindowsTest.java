package dev.pipemoe.engine.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenWindowsTest {

  /** 1,000 tokens whose window can be recognised by its first token: token k at position k·9 ... */
  private static byte[] stream(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 7 + i / 251);
    }
    return b;
  }

  private static int windowOf(int[] sample, byte[] tokens, int length) {
    for (int w = 0; w * (length - 1) + length <= tokens.length; w++) {
      boolean same = true;
      for (int j = 0; j < length && same; j++) {
        same = sample[j] == (tokens[w * (length - 1) + j] & 0xFF);
      }
      if (same) {
        return w;
      }
    }
    throw new AssertionError("not a window of the stream");
  }

  @Test
  void windowsOverlapByOneTokenSoEveryTokenIsATargetOnce() {
    TokenWindows source = new TokenWindows(stream(1000), 1, 1);
    assertThat(source.windows(10)).isEqualTo(111); // (1000 - 10) / 9 + 1
    assertThat(source.windows(1000)).isEqualTo(1);
    assertThat(source.vocabSize()).isEqualTo(256);
  }

  @Test
  void sameArgumentsGiveTheSameTokensAndSeedsDiffer() {
    byte[] tokens = stream(1000);
    int[] a = new TokenWindows(tokens, 7, 2).sequences(3, 1, 1, 4, 2, 17);
    int[] b = new TokenWindows(tokens, 7, 2).sequences(3, 1, 1, 4, 2, 17);
    int[] c = new TokenWindows(tokens, 8, 2).sequences(3, 1, 1, 4, 2, 17);
    assertThat(a).hasSize(34).isEqualTo(b).isNotEqualTo(c);
  }

  @Test
  void dataRanksGetDisjointSamplesAndAnEpochCoversEveryWindowOnce() {
    byte[] tokens = stream(1000);
    int length = 10;
    int microBatches = 3;
    int dataRanks = 4;
    int samples = 2;
    TokenWindows source = new TokenWindows(tokens, 42, microBatches);
    int windows = source.windows(length); // 111
    int perStep = microBatches * dataRanks * samples; // 24
    Set<Integer> seen = new HashSet<>();
    int drawn = 0;
    for (int step = 0; (step + 1) * perStep <= windows; step++) {
      for (int mb = 0; mb < microBatches; mb++) {
        for (int rank = 0; rank < dataRanks; rank++) {
          int[] rows = source.sequences(step, mb, rank, dataRanks, samples, length);
          for (int i = 0; i < samples; i++) {
            int[] row = java.util.Arrays.copyOfRange(rows, i * length, (i + 1) * length);
            assertThat(java.util.Arrays.stream(row)).allMatch(t -> t >= 0 && t < 256);
            assertThat(seen.add(windowOf(row, tokens, length))).as("window drawn twice in one epoch").isTrue();
            drawn++;
          }
        }
      }
    }
    assertThat(drawn).isEqualTo(96); // 4 whole steps of 24
    assertThat(seen).hasSize(96);
  }

  @Test
  void theNextEpochReshuffles() {
    byte[] tokens = stream(100);
    TokenWindows source = new TokenWindows(tokens, 5, 1);
    int windows = source.windows(4); // 33
    assertThat(windows).isEqualTo(33);
    StringBuilder first = new StringBuilder();
    StringBuilder second = new StringBuilder();
    for (int i = 0; i < windows; i++) {
      first.append(windowOf(source.sequences(i, 0, 0, 1, 1, 4), tokens, 4)).append(',');
      second.append(windowOf(source.sequences(windows + i, 0, 0, 1, 1, 4), tokens, 4)).append(',');
    }
    assertThat(first.toString()).isNotEqualTo(second.toString());
  }

  @Test
  void badRequestsAndShortDataAreClearErrors() {
    TokenWindows source = new TokenWindows(stream(50), 1, 2);
    assertThatThrownBy(() -> source.sequences(0, 0, 0, 1, 1, 51)).hasMessageContaining("50 tokens")
        .hasMessageContaining("fewer than one sample of 51");
    assertThatThrownBy(() -> source.sequences(0, 2, 0, 1, 1, 10)).hasMessageContaining("micro-batch 2 of 2");
    assertThatThrownBy(() -> source.sequences(0, 0, 3, 2, 1, 10)).hasMessageContaining("data rank 3 of 2");
    assertThatThrownBy(() -> source.sequences(0, 0, 0, 1, 1, 1)).hasMessageContaining("at least 2 tokens");
    assertThatThrownBy(() -> new TokenWindows(new byte[1], 1, 1)).hasMessageContaining("at least 2 tokens");
  }
}
