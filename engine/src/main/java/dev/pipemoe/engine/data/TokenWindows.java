package dev.pipemoe.engine.data;

import java.util.SplittableRandom;

/**
 * A {@link TokenSource} over one token stream (bytes): the stream is cut into windows of {@code
 * length} tokens at stride {@code length - 1}, so that consecutive windows share one token and
 * every token but the first is a target exactly once per epoch. The windows are shuffled once per
 * epoch by the seed, and sample {@code i} of micro-batch {@code mb} of data rank {@code r} at step
 * {@code t} is the window at global index {@code ((t·microBatches + mb)·dataRanks + r)·samples +
 * i}: data ranks see disjoint windows within an epoch, and the whole sequence is a function of the
 * seed alone. Thread-safe: every rank thread may ask at once.
 */
public final class TokenWindows implements TokenSource {

  private final byte[] tokens;
  private final long seed;
  private final int microBatches;

  /** The permutation of the epoch asked for last (ranks of a step share it). */
  private Shuffle shuffle;

  private record Shuffle(int length, long epoch, int[] order) {}

  /**
   * @param tokens byte-level tokens, not copied (callers do not change them)
   * @param microBatches micro-batches per step and data rank, for the sample index
   */
  public TokenWindows(byte[] tokens, long seed, int microBatches) {
    if (tokens.length < 2 || microBatches < 1) {
      throw new IllegalArgumentException("need at least 2 tokens and 1 micro-batch, was " + tokens.length
          + " tokens and " + microBatches + " micro-batches");
    }
    this.tokens = tokens;
    this.seed = seed;
    this.microBatches = microBatches;
  }

  @Override
  public int vocabSize() {
    return ByteTokens.VOCAB_SIZE;
  }

  /** Windows of {@code length} tokens in one epoch. */
  public int windows(int length) {
    if (length < 2) {
      throw new IllegalArgumentException("a sample needs at least 2 tokens (1 input, 1 target), was " + length);
    }
    if (tokens.length < length) {
      throw new IllegalArgumentException("the data has " + tokens.length + " tokens, fewer than one sample of "
          + length + " (seq-length + 1): use a longer text or a shorter --seq-length");
    }
    return (tokens.length - length) / (length - 1) + 1;
  }

  @Override
  public int[] sequences(int step, int microBatch, int dataRank, int dataRanks, int samples, int length) {
    if (step < 0 || microBatch < 0 || microBatch >= microBatches || dataRanks < 1 || dataRank < 0
        || dataRank >= dataRanks || samples < 1) {
      throw new IllegalArgumentException("bad sample request: step " + step + ", micro-batch " + microBatch + " of "
          + microBatches + ", data rank " + dataRank + " of " + dataRanks + ", samples " + samples);
    }
    int windows = windows(length);
    long first = (((long) step * microBatches + microBatch) * dataRanks + dataRank) * samples;
    int[] out = new int[samples * length];
    for (int i = 0; i < samples; i++) {
      long index = first + i;
      int window = order(length, index / windows, windows)[(int) (index % windows)];
      int start = window * (length - 1);
      for (int j = 0; j < length; j++) {
        out[i * length + j] = ByteTokens.id(tokens[start + j]);
      }
    }
    return out;
  }

  /** The windows of one epoch in their shuffled order (Fisher-Yates from the seed and epoch). */
  private synchronized int[] order(int length, long epoch, int windows) {
    Shuffle s = shuffle;
    if (s != null && s.length() == length && s.epoch() == epoch) {
      return s.order();
    }
    int[] order = new int[windows];
    for (int i = 0; i < windows; i++) {
      order[i] = i;
    }
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
    for (int i = windows - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    shuffle = new Shuffle(length, epoch, order);
    return order;
  }
}
