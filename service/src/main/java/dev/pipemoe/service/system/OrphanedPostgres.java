package dev.pipemoe.service.system;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A standalone service killed without its shutdown hooks ({@code kill -9}, the OOM killer) leaves
 * its embedded PostgreSQL running, and the next start would fail on the data directory's
 * {@code postmaster.pid}. Before starting, this stops such an orphan, but only when no live
 * service holds the directory: zonky keeps an OS file lock on {@code epg-lock} while it runs, and
 * the lock dies with its process, so a lock we can take means nobody is using this PostgreSQL.
 */
final class OrphanedPostgres {

  private static final Logger log = LoggerFactory.getLogger(OrphanedPostgres.class);

  private OrphanedPostgres() {}

  static void stopIfAny(Path dataDir, Duration timeout) throws IOException {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    try (FileChannel channel = FileChannel.open(dataDir.resolve("epg-lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock lock = channel.tryLock()) {
      if (lock == null) {
        return; // a live service owns this directory; zonky will report that it is in use
      }
      Optional<ProcessHandle> postmaster = postmaster(pidFile, dataDir);
      if (postmaster.isEmpty()) {
        return; // a stale pid file; PostgreSQL removes it itself on start
      }
      log.warn("PostgreSQL {} still runs on {} from a service that did not shut down; stopping it",
          postmaster.get().pid(), dataDir);
      postmaster.get().destroy(); // SIGTERM: PostgreSQL's smart shutdown; its clients are gone
      postmaster.get().onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (OverlappingFileLockException e) {
      return; // this very JVM runs a PostgreSQL on it (tests start several services in one JVM)
    } catch (TimeoutException e) {
      throw new IOException("the orphaned PostgreSQL on " + dataDir + " did not stop within " + timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping the orphaned PostgreSQL on " + dataDir, e);
    } catch (ExecutionException e) {
      throw new IOException("cannot wait for the orphaned PostgreSQL on " + dataDir, e);
    }
  }

  /** The live process the pid file names, if it is a postgres serving this directory. */
  private static Optional<ProcessHandle> postmaster(Path pidFile, Path dataDir) throws IOException {
    List<String> lines = Files.readAllLines(pidFile);
    if (lines.isEmpty()) {
      return Optional.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(lines.getFirst().strip());
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(p -> p.info().commandLine()
        .map(command -> command.contains("postgres") && command.contains(dataDir.toString())).orElse(false));
  }
}
