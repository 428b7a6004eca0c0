package dev.pipemoe.worker.spool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import dev.pipemoe.worker.client.Backoff;
import dev.pipemoe.worker.system.WorkerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Random interleavings of appends, shipping passes over a flaky wire (unreachable, answer lost, not
 * acknowledged), attempts ending and worker restarts: in the end every record appended was
 * acknowledged, nothing else was sent, and no record whose acknowledgement reached the worker was
 * ever sent again.
 */
class SpoolPropertyTest {

  sealed interface Op {}

  record Append(int records) implements Op {}

  record Ship(SentBatches.Answer answer, int batchSize) implements Op {}

  /** The attempt ends; the next appends belong to a new attempt. */
  record EndAttempt() implements Op {}

  /** The worker process dies and starts again (files stay, unsealed ones are sealed). */
  record Restart() implements Op {}

  static Op op(SplittableRandom r) {
    return switch (Gen.intIn(r, 0, 9)) {
      case 0, 1, 2, 3 -> new Append(Gen.intIn(r, 1, 6));
      case 4, 5, 6 -> new Ship(Gen.oneOf(r, SentBatches.Answer.ACKNOWLEDGED,
          SentBatches.Answer.ACKNOWLEDGED, SentBatches.Answer.UNREACHABLE,
          SentBatches.Answer.ANSWER_LOST, SentBatches.Answer.NOT_ACKNOWLEDGED),
          Gen.intIn(r, 1, 7));
      case 7 -> new EndAttempt();
      default -> new Restart();
    };
  }

  @Test
  void nothingAcknowledgedIsSentAgainAndNothingUnacknowledgedIsLost() {
    Property.forAll(100, r -> Gen.listOf(r, 40, SpoolPropertyTest::op), ops -> {
      try {
        check(ops);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  private static void check(List<Op> ops) throws IOException {
    Path dir = Files.createTempDirectory("spool-prop");
    WorkerMetrics metrics = new WorkerMetrics(new SimpleMeterRegistry());
    SentBatches wire = new SentBatches();
    Set<SentBatches.Key> appended = new HashSet<>();
    try {
      Spool spool = Spool.open(dir, metrics);
      int attempt = 1;
      int step = 0;
      SpoolFile current = null;
      for (Op op : ops) {
        switch (op) {
          case Append a -> {
            if (current == null) {
              current = spool.create(new AttemptRef("job", attempt));
            }
            for (int i = 0; i < a.records(); i++) {
              spool.append(current, SpoolTest.record(step, 0));
              appended.add(new SentBatches.Key("job", attempt, step, 0));
              step++;
            }
          }
          case Ship s -> {
            wire.answer = s.answer();
            shipper(spool, wire, s.batchSize()).shipPending();
          }
          case EndAttempt e -> {
            if (current != null) {
              spool.seal(current);
            }
            current = null;
            attempt++;
            step = 0;
          }
          case Restart x -> {
            spool.close();
            spool = Spool.open(dir, metrics);
            current = null;
            attempt++;
            step = 0;
          }
        }
        assertThat(wire.sentAgainAfterAck).as("records sent again after their ack").isEmpty();
      }
      if (current != null) {
        spool.seal(current);
      }
      wire.answer = SentBatches.Answer.ACKNOWLEDGED;
      Shipper shipper = shipper(spool, wire, 5);
      // until every file is drained and deleted; each pass ships a record or deletes a file, so
      // more passes than records and files means the shipper stopped making progress
      int budget = appended.size() + spool.files().size() + 10;
      Shipper.Pass pass = null;
      for (int passes = 0; pass != Shipper.Pass.IDLE; passes++) {
        assertThat(passes).as("passes to drain the spool; the last was %s, files left %s", pass, spool.files())
            .isLessThan(budget);
        pass = shipper.shipPending();
      }
      assertThat(wire.acknowledged).as("acknowledged = appended").isEqualTo(appended);
      assertThat(wire.arrivedOnce()).as("nothing but appended records sent").isEqualTo(appended);
      assertThat(wire.sentAgainAfterAck).isEmpty();
      assertThat(spool.files()).isEmpty();
      spool.close();
      try (Stream<Path> left = Files.list(dir)) {
        assertThat(left.map(p -> p.getFileName().toString())).containsExactly(".lock");
      }
    } finally {
      deleteTree(dir);
    }
  }

  private static Shipper shipper(Spool spool, SentBatches wire, int batchSize) {
    return new Shipper(spool, wire, batchSize, Duration.ofMillis(10),
        new Backoff(Duration.ofMillis(1), Duration.ofMillis(2), new SplittableRandom(1)),
        new WorkerMetrics(new SimpleMeterRegistry()), () -> true, ref -> {});
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> all = new ArrayList<>(s.sorted(Comparator.reverseOrder()).toList());
      for (Path p : all) {
        Files.deleteIfExists(p);
      }
    }
  }
}
