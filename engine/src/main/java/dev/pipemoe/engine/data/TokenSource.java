package dev.pipemoe.engine.data;

/**
 * Where a whole-model job's tokens come from. Deterministic: the same arguments give the same
 * tokens on every rank and every run, and different data ranks get disjoint samples of one step.
 */
public interface TokenSource {

  /** Token ids are in {@code [0, vocabSize())}, before any padding of the model's vocabulary. */
  int vocabSize();

  /**
   * The samples of one micro-batch of one data rank: {@code samples} rows of {@code length} tokens
   * (inputs are a row's first length-1 tokens, targets its last length-1), row-major.
   *
   * @param step the training step
   * @param microBatch the micro-batch within the step
   * @param dataRank this rank's index among the {@code dataRanks} that see distinct samples
   */
  int[] sequences(int step, int microBatch, int dataRank, int dataRanks, int samples, int length);
}
