package dev.pipemoe.engine.contract;

import dev.pipemoe.engine.data.TokenSource;
import dev.pipemoe.engine.moe.HostRandom;

/**
 * Tokens for whole-model tests, from a seed: uniformly random, or a learnable pattern (each sample
 * counts up by one from a random start, modulo the vocabulary, so the next token is a function of
 * the current one). Every (step, micro-batch, data rank, sample) gets its own draw, so data ranks
 * see disjoint samples.
 */
public record TestTokens(int vocabSize, long seed, boolean pattern) implements TokenSource {

  @Override
  public int[] sequences(int step, int microBatch, int dataRank, int dataRanks, int samples,
      int length) {
    int[] out = new int[samples * length];
    for (int s = 0; s < samples; s++) {
      long key = HostRandom.key(seed, "test-tokens", step, microBatch, dataRank, s);
      int start = (int) (HostRandom.uniform(key, 0) * vocabSize);
      for (int i = 0; i < length; i++) {
        out[s * length + i] = pattern ? (start + i) % vocabSize
            : (int) (HostRandom.uniform(key, i + 1) * vocabSize);
      }
    }
    return out;
  }
}
