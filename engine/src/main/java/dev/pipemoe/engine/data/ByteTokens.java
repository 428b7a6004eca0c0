package dev.pipemoe.engine.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Byte-level tokens: every byte of a text is one token id in [0, 256). No tokenizer files, no
 * vocabulary to ship, and any file is valid input; the price is long sequences for a given text,
 * which a CPU-sized model does not mind.
 */
public final class ByteTokens {

  /** Distinct token ids. */
  public static final int VOCAB_SIZE = 256;

  /** The largest file read: it is held in memory whole, one byte per token. */
  public static final long MAX_BYTES = 256L << 20;

  private ByteTokens() {}

  /**
   * The bytes of {@code file}, read once.
   *
   * @throws IllegalArgumentException naming the file when it is missing, not a regular file, empty,
   *     or larger than {@link #MAX_BYTES}
   * @throws UncheckedIOException when reading fails
   */
  public static byte[] read(Path file) {
    try {
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException("data file " + file + " (--data-path) "
            + (Files.exists(file) ? "is not a regular file" : "does not exist on this worker"));
      }
      long size = Files.size(file);
      if (size > MAX_BYTES) {
        throw new IllegalArgumentException("data file " + file + " (--data-path) has " + size
            + " bytes; at most " + MAX_BYTES + " are read, one token per byte held in memory");
      }
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length == 0) {
        throw new IllegalArgumentException("data file " + file + " (--data-path) is empty");
      }
      return bytes;
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("data file " + file + " (--data-path) does not exist on this worker", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read data file " + file + " (--data-path)", e);
    }
  }

  /** The token id of byte {@code b}. */
  public static int id(byte b) {
    return b & 0xFF;
  }
}
