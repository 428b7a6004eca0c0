package dev.pipemoe.worker.spool;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.worker.system.WorkerMetrics;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's metric spool: a directory with one {@link SpoolFile} per attempt. Opening it takes
 * an exclusive lock (two worker processes on one spool would ship each other's records) and
 * reopens whatever an earlier process left, sealed, for the shipper to drain.
 */
public final class Spool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Spool.class);

  private final Path dir;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final WorkerMetrics metrics;
  private final List<SpoolFile> files = new CopyOnWriteArrayList<>();
  private volatile Consumer<SpoolFile> onChange = f -> {};

  private Spool(Path dir, FileChannel lockChannel, FileLock lock, WorkerMetrics metrics) {
    this.dir = dir;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.metrics = metrics;
  }

  public static Spool open(Path dir, WorkerMetrics metrics) throws IOException {
    Files.createDirectories(dir);
    FileChannel ch = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      ch.close();
      throw new IOException("spool directory " + dir + " is in use by another worker process;"
          + " give each worker its own pipemoe.worker.spool-dir (or name)");
    }
    Spool spool = new Spool(dir, ch, lock, metrics);
    try {
      spool.reopenLeftovers();
    } catch (IOException | RuntimeException e) {
      spool.close();
      throw e;
    }
    metrics.spoolGauges(spool, Spool::sizeBytes, Spool::pendingRecords);
    return spool;
  }

  private void reopenLeftovers() throws IOException {
    List<Path> data = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (name.endsWith(SpoolFile.DATA)) {
          data.add(p);
        } else if (name.endsWith(SpoolFile.ACKED + ".tmp") || name.endsWith(SpoolFile.ACKED)
            && !Files.exists(dir.resolve(name.substring(0, name.length()
                - SpoolFile.ACKED.length()) + SpoolFile.DATA))) {
          Files.deleteIfExists(p);  // an offset without its records, or a rename a crash cut short
        }
      }
    }
    data.sort(Comparator.comparing(Spool::modified));
    for (Path p : data) {
      String name = p.getFileName().toString();
      Optional<AttemptRef> ref = FileNames.parse(name.substring(0, name.length()
          - SpoolFile.DATA.length()));
      if (ref.isEmpty()) {
        log.warn("spool: ignoring {}, which is not named like a spool file", p);
        continue;
      }
      SpoolFile f = SpoolFile.reopen(p, ref.get());
      log.info("spool: {} left by an earlier run has {} of {} records to ship", f,
          f.pendingRecords(), f.records());
      files.add(f);
    }
  }

  private static FileTime modified(Path p) {
    try {
      return Files.getLastModifiedTime(p);
    } catch (IOException e) {
      return FileTime.fromMillis(0);
    }
  }

  /** A new file for an attempt this process is starting; fails if the attempt has one. */
  public SpoolFile create(AttemptRef ref) throws IOException {
    for (SpoolFile f : files) {
      if (f.ref().equals(ref) && !f.gone()) {
        throw new FileAlreadyExistsException(f.path().toString(), null,
            "attempt " + ref.jobId() + "/" + ref.attempt() + " was spooled before");
      }
    }
    SpoolFile f = SpoolFile.create(dir, ref);
    files.add(f);
    return f;
  }

  /** Appends and counts; the shipper is told when a batch may be due. */
  public void append(SpoolFile f, StepMetrics record) throws IOException {
    f.append(record);
    metrics.spooled(1);
    onChange.accept(f);
  }

  /**
   * Seals the file (its attempt ended) and tells the shipper to send the rest now. Sealing again
   * only retries the force; the shipper heard it the first time.
   */
  public void seal(SpoolFile f) throws IOException {
    boolean first = !f.sealed();
    f.seal();
    if (first) {
      onChange.accept(f);
    }
  }

  /** Every file not yet deleted, oldest first. */
  public List<SpoolFile> files() {
    return files.stream().filter(f -> !f.gone()).toList();
  }

  void remove(SpoolFile f) throws IOException {
    try {
      f.delete();
    } finally {
      files.remove(f);
    }
  }

  void onChange(Consumer<SpoolFile> r) {
    onChange = r;
  }

  public long sizeBytes() {
    return files.stream().mapToLong(SpoolFile::sizeBytes).sum();
  }

  public long pendingRecords() {
    return files.stream().mapToLong(SpoolFile::pendingRecords).sum();
  }

  public Path directory() {
    return dir;
  }

  /** Closes the files (they stay on disk for the next start) and releases the lock. */
  @Override
  public void close() throws IOException {
    IOException first = null;
    for (SpoolFile f : files) {
      try {
        f.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    files.clear();
    lock.release();
    lockChannel.close();
    if (first != null) {
      throw first;
    }
  }
}
