package dev.pipemoe.worker.spool;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.worker.client.ProtocolJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;

/**
 * One attempt's metric records on disk: {@code <job>.a<attempt>.ndjson}, one {@link StepMetrics}
 * JSON object per line, append-only; and {@code <job>.a<attempt>.acked}, the byte offset up to
 * which the service acknowledged them, replaced atomically (write, fsync, rename) after every
 * acknowledged batch.
 *
 * <p>Appends come from the rank threads, reads and acknowledgements from the shipper: every method
 * holds the object's lock. A record is written with one positional write of its whole line; a
 * write that fails is cut off again, and a line torn by a crash (no final newline) is cut off when
 * the file is reopened, so the file always holds whole lines.
 */
public final class SpoolFile {
  private static final Logger log = LoggerFactory.getLogger(SpoolFile.class);
  static final String DATA = ".ndjson";
  static final String ACKED = ".acked";

  private final AttemptRef ref;
  private final Path data;
  private final Path acked;
  private final FileChannel channel;
  private long length;
  private long records;
  private long ackedOffset;
  private long ackedRecords;
  private boolean sealed;
  private boolean dirty;
  private boolean gone;

  private SpoolFile(AttemptRef ref, Path data, FileChannel channel) {
    this.ref = ref;
    this.data = data;
    this.acked = sibling(data, ACKED);
    this.channel = channel;
  }

  /** A new, empty file for a running attempt. */
  static SpoolFile create(Path dir, AttemptRef ref) throws IOException {
    Path data = dir.resolve(FileNames.base(ref) + DATA);
    FileChannel ch = FileChannel.open(data, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    return new SpoolFile(ref, data, ch);
  }

  /**
   * A file an earlier process left: sealed (no attempt of this process appends to it), its torn
   * last line cut off, its acknowledged offset read back (0 when missing or not at a line start,
   * so at worst acknowledged records are sent again and the service counts them as duplicates).
   */
  static SpoolFile reopen(Path data, AttemptRef ref) throws IOException {
    FileChannel ch = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE);
    SpoolFile f = new SpoolFile(ref, data, ch);
    try {
      f.recover();
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    return f;
  }

  private void recover() throws IOException {
    long size = channel.size();
    long offset = readAckedOffset();
    long lastNewline = -1;
    long lines = 0;
    long linesBeforeAcked = 0;
    boolean ackedAtLineStart = offset == 0;
    ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    for (long pos = 0; pos < size; ) {
      buf.clear();
      int n = channel.read(buf, pos);
      if (n < 0) {
        break;
      }
      for (int i = 0; i < n; i++) {
        if (buf.get(i) == '\n') {
          lastNewline = pos + i;
          lines++;
          if (lastNewline + 1 == offset) {
            ackedAtLineStart = true;
            linesBeforeAcked = lines;
          }
        }
      }
      pos += n;
    }
    length = lastNewline + 1;
    if (size > length) {
      log.warn("spool {}: cutting off a torn last line of {} bytes (the process died while"
          + " writing it)", data.getFileName(), size - length);
      channel.truncate(length);
      channel.force(false);
    }
    records = lines;
    if (!ackedAtLineStart || offset > length) {
      log.warn("spool {}: acknowledged offset {} is not a line start of this file ({} bytes);"
          + " sending it again from the start (the service drops duplicates)", data.getFileName(),
          offset, length);
      offset = 0;
      linesBeforeAcked = 0;
    }
    ackedOffset = offset;
    ackedRecords = linesBeforeAcked;
    sealed = true;
  }

  private long readAckedOffset() {
    try {
      if (!Files.exists(acked)) {
        return 0;
      }
      return Long.parseLong(Files.readString(acked, StandardCharsets.US_ASCII).strip());
    } catch (IOException | NumberFormatException e) {
      log.warn("spool {}: unreadable acknowledged offset ({}); sending it again from the start",
          acked.getFileName(), e.toString());
      return 0;
    }
  }

  public AttemptRef ref() {
    return ref;
  }

  /** Appends one record as a line; fails once the file is sealed. */
  public synchronized void append(StepMetrics record) throws IOException {
    if (sealed) {
      throw new IllegalStateException("spool " + data.getFileName() + " is sealed: attempt " + ref
          + " appends no more records");
    }
    byte[] line = (ProtocolJson.writeString(record) + "\n").getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.wrap(line);
    try {
      for (long pos = length; buf.hasRemaining(); ) {
        pos += channel.write(buf, pos);
      }
    } catch (IOException e) {
      try {
        channel.truncate(length);  // no half line stays behind for the next append to extend
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    length += line.length;
    records++;
    dirty = true;
  }

  /** Makes the appended records durable (fsync), if any are not yet. */
  public synchronized void force() throws IOException {
    if (dirty && !gone) {
      channel.force(false);
      dirty = false;
    }
  }

  /** No more appends: the attempt ended. The records are forced to disk. */
  public synchronized void seal() throws IOException {
    sealed = true;
    force();
  }

  /**
   * Up to {@code max} records after the acknowledged offset. A line that is no record (only a
   * disk fault makes one) is skipped and counted, so one bad line cannot block the rest.
   */
  synchronized Batch next(int max) throws IOException {
    List<StepMetrics> out = new ArrayList<>();
    int lines = 0;
    int unreadable = 0;
    long pos = ackedOffset;
    ByteArrayOutputStream line = new ByteArrayOutputStream(512);
    ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    read:
    while (pos < length && lines < max) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), length - pos));
      int n = channel.read(buf, pos);
      if (n <= 0) {
        throw new IOException("spool " + data.getFileName() + " ended at " + pos + " of " + length
            + " bytes");
      }
      long lineStart = pos - line.size();
      for (int i = 0; i < n; i++) {
        byte b = buf.get(i);
        if (b != '\n') {
          line.write(b);
          continue;
        }
        lines++;
        try {
          out.add(ProtocolJson.read(line.toByteArray(), StepMetrics.class));
        } catch (JacksonException e) {
          unreadable++;
          log.error("spool {}: skipping an unreadable line at byte {}: {}", data.getFileName(),
              lineStart, e.getOriginalMessage());
        }
        line.reset();
        lineStart = pos + i + 1;
        if (lines == max) {
          pos += i + 1;
          break read;
        }
      }
      pos += n;
    }
    return new Batch(ackedOffset, pos, lines, unreadable, out);
  }

  /**
   * Records the batch as acknowledged, durably: the next {@link #next} and any later process start
   * after it. Only the batch that starts at the current acknowledged offset can be acknowledged.
   */
  synchronized void ack(Batch batch) throws IOException {
    if (batch.startOffset() != ackedOffset || batch.endOffset() > length) {
      throw new IllegalStateException("spool " + data.getFileName() + ": batch ["
          + batch.startOffset() + ", " + batch.endOffset()
          + ") does not follow the acknowledged offset " + ackedOffset);
    }
    Path tmp = sibling(data, ACKED + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(ByteBuffer.wrap((batch.endOffset() + "\n").getBytes(StandardCharsets.US_ASCII)));
      ch.force(true);
    }
    // a crash before the rename keeps the old offset: the batch is sent again, stored once
    Files.move(tmp, acked, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    ackedOffset = batch.endOffset();
    ackedRecords += batch.lines();
  }

  /** Sealed and every record acknowledged: nothing more will happen to this file. */
  public synchronized boolean drained() {
    return sealed && ackedOffset == length;
  }

  public synchronized boolean sealed() {
    return sealed;
  }

  /** Deleted, drained or dropped. */
  public synchronized boolean gone() {
    return gone;
  }

  public synchronized long pendingRecords() {
    return gone ? 0 : records - ackedRecords;
  }

  public synchronized long records() {
    return records;
  }

  public synchronized long sizeBytes() {
    return gone ? 0 : length;
  }

  public Path path() {
    return data;
  }

  /** Closes and deletes the file and its offset: it is drained, or its records were refused. */
  synchronized void delete() throws IOException {
    if (gone) {
      return;
    }
    gone = true;
    sealed = true;
    channel.close();
    Files.deleteIfExists(data);  // data first: an offset file alone is cleaned up on the next start
    Files.deleteIfExists(acked);
  }

  synchronized void close() throws IOException {
    sealed = true;
    channel.close();
  }

  static Path sibling(Path data, String suffix) {
    String name = data.getFileName().toString();
    return data.resolveSibling(name.substring(0, name.length() - DATA.length()) + suffix);
  }

  @Override
  public String toString() {
    return data.getFileName().toString();
  }

  /** Consecutive records of one file, from one acknowledged offset to the next. */
  record Batch(long startOffset, long endOffset, int lines, int unreadable,
      List<StepMetrics> records) {}
}
