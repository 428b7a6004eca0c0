package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Tensor;

/**
 * One micro-batch as this rank's embeddings and LM head take it, from its data rank's samples
 * (each {@code seq + 1} tokens: inputs are the first seq, targets the last seq) cut to the rank's CP
 * chunk.
 *
 * @param vocabRows I32 [S_chunk, 1]: each input token's row in this rank's vocabulary shard, or -1
 * @param positions I32 [S_local, 1]: the position of each of this rank's residual rows
 * @param targets I32 [S_chunk]: the next token of each of the chunk's inputs
 */
public record MicroBatch(Tensor vocabRows, Tensor positions, Tensor targets)
    implements AutoCloseable {

  public static MicroBatch of(Device d, GptLayout lay, int[] sequences) {
    int length = lay.seqLength() + 1;
    if (sequences.length != lay.microBatchSize() * length) {
      throw new IllegalArgumentException("a micro-batch has " + lay.microBatchSize() + " samples of "
          + length + " tokens, got " + sequences.length + " tokens");
    }
    int rows = lay.chunkTokens();
    int[] vocabRows = new int[rows];
    int[] targets = new int[rows];
    int[] positions = new int[rows];
    for (int r = 0; r < rows; r++) {
      int sample = r / lay.chunk();
      int pos = lay.chunkFirst() + r % lay.chunk();
      int token = sequences[sample * length + pos];
      int local = token - lay.vocabFirst();
      vocabRows[r] = local >= 0 && local < lay.vocabShard() ? local : -1;
      targets[r] = sequences[sample * length + pos + 1];
      positions[r] = pos;
    }
    Tensor vr = d.alloc(DType.I32, rows, 1);
    d.write(vr, vocabRows);
    Tensor ps = d.alloc(DType.I32, lay.localTokens(), 1);
    d.write(ps, java.util.Arrays.copyOfRange(positions, lay.localFirst(),
        lay.localFirst() + lay.localTokens()));
    Tensor ts = d.alloc(DType.I32, rows);
    d.write(ts, targets);
    return new MicroBatch(vr, ps, ts);
  }

  @Override
  public void close() {
    vocabRows.close();
    positions.close();
    targets.close();
  }
}
