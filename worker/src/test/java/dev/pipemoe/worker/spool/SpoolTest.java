package dev.pipemoe.worker.spool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import dev.pipemoe.worker.client.Backoff;
import dev.pipemoe.worker.system.WorkerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spool on a real directory: durability across "crashes" (closing without sealing). */
class SpoolTest {
  static final AttemptRef A1 = new AttemptRef("01a21e27-7133-7487-a748-8f9fe4c17a5a", 1);

  @TempDir
  Path dir;
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final WorkerMetrics metrics = new WorkerMetrics(registry);
  final SentBatches wire = new SentBatches();
  final List<AttemptRef> rejected = new ArrayList<>();

  static StepMetrics record(int step, int rank) {
    return new StepMetrics(step, rank, 0.1 + step, 0.05, 0.02, 0.01, 0.001, 0.05, 1.5, 2.0,
        1000.0 * (rank + 1), 1.0 / (step + 1), 0.01, step * 10L + rank);
  }

  Shipper shipper(Spool spool, Shipper.Sender sender, int batchSize) {
    return new Shipper(spool, sender, batchSize, Duration.ofMillis(20),
        new Backoff(Duration.ofMillis(1), Duration.ofMillis(5), new SplittableRandom(3)), metrics,
        () -> true, rejected::add);
  }

  static void appendSteps(Spool spool, SpoolFile f, int steps, int ranks) throws IOException {
    for (int s = 0; s < steps; s++) {
      for (int r = 0; r < ranks; r++) {
        spool.append(f, record(s, r));
      }
    }
  }

  double counter(String name) {
    return registry.get(name).counter().count();
  }

  List<String> files() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(".lock")).sorted()
          .toList();
    }
  }

  @Test
  void recordsOfACrashedRunAreShippedAfterTheRestartAndTheFileGoes() throws IOException {
    Spool spool = Spool.open(dir, metrics);
    SpoolFile f = spool.create(A1);
    appendSteps(spool, f, 5, 2);
    assertThat(spool.pendingRecords()).isEqualTo(10);
    spool.close();  // the process dies: the attempt never sealed its file

    Spool again = Spool.open(dir, metrics);
    assertThat(again.files()).singleElement().satisfies(g -> {
      assertThat(g.ref()).isEqualTo(A1);
      assertThat(g.sealed()).isTrue();
      assertThat(g.pendingRecords()).isEqualTo(10);
    });
    assertThat(shipper(again, wire, 4).shipPending()).isEqualTo(Shipper.Pass.SHIPPED);
    assertThat(wire.acknowledged).hasSize(10);
    assertThat(wire.arrived).hasSize(10);
    assertThat(wire.calls).isEqualTo(3);
    assertThat(again.files()).isEmpty();
    assertThat(files()).isEmpty();
    assertThat(counter("pipemoe.worker.metric.records.acked")).isEqualTo(10);
    again.close();
  }

  @Test
  void theAcknowledgedOffsetSurvivesARestartSoNothingAcknowledgedIsSentAgain() throws IOException {
    Spool spool = Spool.open(dir, metrics);
    SpoolFile f = spool.create(A1);
    appendSteps(spool, f, 5, 2);
    int[] calls = {0};
    Shipper.Sender failsAfterTwo = batch -> {
      if (++calls[0] > 2) {
        wire.answer = SentBatches.Answer.UNREACHABLE;
      }
      return wire.send(batch);
    };
    assertThat(shipper(spool, failsAfterTwo, 4).shipPending()).isEqualTo(Shipper.Pass.FAILED);
    assertThat(f.pendingRecords()).isEqualTo(2);
    assertThat(files()).contains(FileNames.base(A1) + ".acked");
    spool.close();

    wire.answer = SentBatches.Answer.ACKNOWLEDGED;
    Spool again = Spool.open(dir, metrics);
    assertThat(again.pendingRecords()).isEqualTo(2);
    shipper(again, wire, 4).shipPending();
    assertThat(wire.acknowledged).hasSize(10);
    assertThat(wire.sentAgainAfterAck).isEmpty();
    assertThat(wire.arrived).as("each record sent once").hasSize(10);
    again.close();
  }

  @Test
  void aLostOrNegativeAnswerMeansTheBatchIsSentAgain() throws IOException {
    Spool spool = Spool.open(dir, metrics);
    SpoolFile f = spool.create(A1);
    appendSteps(spool, f, 3, 2);
    wire.answer = SentBatches.Answer.ANSWER_LOST;
    Shipper shipper = shipper(spool, wire, 100);
    assertThat(shipper.shipPending()).isEqualTo(Shipper.Pass.FAILED);
    wire.answer = SentBatches.Answer.NOT_ACKNOWLEDGED;
    assertThat(shipper.shipPending()).isEqualTo(Shipper.Pass.FAILED);
    assertThat(f.pendingRecords()).isEqualTo(6);
    wire.answer = SentBatches.Answer.ACKNOWLEDGED;
    spool.seal(f);
    assertThat(shipper.shipPending()).isEqualTo(Shipper.Pass.SHIPPED);
    assertThat(wire.acknowledged).hasSize(6);
    assertThat(wire.arrived).as("the same 6 records, three times").hasSize(18);
    assertThat(wire.arrivedOnce()).hasSize(6);
    assertThat(counter("pipemoe.worker.metric.records.shipped")).isEqualTo(18);
    assertThat(registry.get("pipemoe.worker.shipping.failures").tag("kind", "unreachable")
        .counter().count()).isEqualTo(1);
    assertThat(registry.get("pipemoe.worker.shipping.failures").tag("kind", "server")
        .counter().count()).isEqualTo(1);
    assertThat(files()).isEmpty();
    spool.close();
  }

  @Test
  void aRunningAttemptsFileStaysUntilSealedEvenWhenEverythingIsAcknowledged()
      throws IOException {
    Spool spool = Spool.open(dir, metrics);
    SpoolFile f = spool.create(A1);
    appendSteps(spool, f, 2, 2);
    Shipper shipper = shipper(spool, wire, 100);
    shipper.shipPending();
    assertThat(f.pendingRecords()).isZero();
    assertThat(f.drained()).isFalse();
    spool.append(f, record(2, 0));  // the attempt goes on
    spool.append(f, record(2, 1));
    spool.seal(f);
    shipper.shipPending();
    assertThat(wire.acknowledged).hasSize(6);
    assertThat(f.gone()).isTrue();
    assertThat(files()).isEmpty();
    assertThatThrownBy(() -> f.append(record(9, 9))).hasMessageContaining("sealed");
    spool.close();
  }

  @Test
  void aTornLastLineIsCutOffWhenTheFileIsReopened() throws IOException {
    Spool spool = Spool.open(dir, metrics);
    SpoolFile f = spool.create(A1);
    appendSteps(spool, f, 3, 1);
    Path data = f.path();
    spool.close();
    Files.writeString(data, "{\"step\":3,\"rank\":0,\"stepSec", StandardOpenOption.APPEND);

    Spool again = Spool.open(dir, metrics);
    assertThat(again.pendingRecords()).isEqualTo(3);
    assertThat(Files.readString(data)).endsWith("}\n");
    shipper(again, wire, 10).shipPending();
    assertThat(wire.acknowledged).hasSize(3);
    assertThat(counter("pipemoe.worker.metric.records.dropped")).isZero();
    again.close();
  }

  @Test
  void anUnreadableLineIsSkippedAndCountedAndTheRestIsShipped() throws IOException {
    Path data = dir.resolve(FileNames.base(A1) + ".ndjson");
    String good = dev.pipemoe.worker.client.ProtocolJson.writeString(record(0, 0));
    String good2 = dev.pipemoe.worker.client.ProtocolJson.writeString(record(1, 0));
    Files.writeString(data, good + "\n" + "\u0000\u0000 not json\n" + good2 + "\n",
        StandardCharsets.UTF_8);
    Spool spool = Spool.open(dir, metrics);
    shipper(spool, wire, 10).shipPending();
    assertThat(wire.acknowledged).hasSize(2);
    assertThat(counter("pipemoe.worker.metric.records.dropped")).isEqualTo(1);
    assertThat(files()).isEmpty();
    spool.close();
  }

  @Test
  void aStaleOrBrokenAcknowledgedOffsetMeansSendingAgainNotLosing() throws IOException {
    Spool spool = Spool.open(dir, metrics);
    SpoolFile f = spool.create(A1);
    appendSteps(spool, f, 2, 2);
    spool.close();
    Files.writeString(dir.resolve(FileNames.base(A1) + ".acked"), "17\n");  // not a line start
    Files.writeString(dir.resolve("orphan.a3.acked"), "100\n");  // no records beside it
    Files.writeString(dir.resolve("x.a1.acked.tmp"), "1");  // a rename a crash cut short

    Spool again = Spool.open(dir, metrics);
    assertThat(again.pendingRecords()).isEqualTo(4);
    assertThat(files()).containsExactly(FileNames.base(A1) + ".acked",
        FileNames.base(A1) + ".ndjson");
    shipper(again, wire, 10).shipPending();
    assertThat(wire.acknowledged).hasSize(4);
    again.close();
  }

  @Test
  void recordsOfAnAttemptTheServiceRefusesAreDroppedAndTheAttemptReported() throws IOException {
    Spool spool = Spool.open(dir, metrics);
    SpoolFile mine = spool.create(A1);
    SpoolFile theirs = spool.create(new AttemptRef("job-b", 2));
    appendSteps(spool, mine, 2, 2);
    appendSteps(spool, theirs, 3, 2);
    wire.refusedJobs.add("job-b");
    Shipper shipper = shipper(spool, wire, 100);
    assertThat(shipper.shipPending()).isEqualTo(Shipper.Pass.SHIPPED);
    assertThat(rejected).containsExactly(new AttemptRef("job-b", 2));
    assertThat(theirs.gone()).isTrue();
    assertThat(wire.acknowledged).hasSize(4);
    assertThat(counter("pipemoe.worker.metric.records.dropped")).isEqualTo(6);
    assertThat(registry.get("pipemoe.worker.shipping.failures").tag("kind", "conflict")
        .counter().count()).isEqualTo(1);
    assertThatThrownBy(() -> theirs.append(record(5, 0))).hasMessageContaining("sealed");
    spool.close();
  }

  @Test
  void aSecondWorkerProcessCannotUseTheSameSpool() throws IOException {
    try (Spool spool = Spool.open(dir, metrics)) {
      assertThatThrownBy(() -> Spool.open(dir, metrics)).isInstanceOf(IOException.class)
          .hasMessageContaining("in use by another worker process");
      assertThat(spool.files()).isEmpty();
    }
    Spool.open(dir, metrics).close();  // released with the first
  }

  @Test
  void theShipperThreadDrainsASealedFileWithoutWaitingForTheFlushInterval() throws Exception {
    Spool spool = Spool.open(dir, metrics);
    SpoolFile f = spool.create(A1);
    Shipper shipper = new Shipper(spool, wire, 1000, Duration.ofHours(1),
        new Backoff(Duration.ofMillis(1), Duration.ofMillis(5), new SplittableRandom(3)), metrics,
        () -> true, rejected::add);
    Thread t = Thread.ofPlatform().start(shipper);
    appendSteps(spool, f, 4, 2);
    spool.seal(f);
    assertThat(shipper.awaitDone(f, System.nanoTime() + Duration.ofSeconds(10).toNanos(),
        () -> false)).isTrue();
    assertThat(wire.acknowledged).hasSize(8);
    shipper.stop();
    t.join(5000);
    assertThat(t.isAlive()).isFalse();
    spool.close();
  }

  @Test
  void awaitDoneGivesUpAtItsDeadlineOrWhenAsked() throws Exception {
    Spool spool = Spool.open(dir, metrics);
    SpoolFile f = spool.create(A1);
    appendSteps(spool, f, 1, 1);
    Shipper shipper = shipper(spool, wire, 10);
    long t0 = System.nanoTime();
    assertThat(shipper.awaitDone(f, t0 + Duration.ofMillis(150).toNanos(), () -> false)).isFalse();
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(Duration.ofMillis(150).toNanos());
    assertThat(shipper.awaitDone(f, Long.MAX_VALUE, () -> true)).isFalse();
    spool.close();
  }

  @Test
  void fileNamesStandForTheirAttemptWhateverTheJobId() {
    Property.forAll(500, r -> new AttemptRef(Gen.oneOf(r,
        java.util.UUID.randomUUID().toString(), randomText(r)), Gen.intIn(r, 0, 1_000_000)), ref -> {
          String base = FileNames.base(ref);
          assertThat(base).matches("[A-Za-z0-9_%.-]+");
          assertThat(FileNames.parse(base)).contains(ref);
        });
    assertThat(FileNames.parse("notes")).isEmpty();
    assertThat(FileNames.parse("x%zz.a1")).isEmpty();
  }

  private static String randomText(SplittableRandom r) {
    StringBuilder sb = new StringBuilder();
    int n = Gen.intIn(r, 1, 20);
    for (int i = 0; i < n; i++) {
      sb.appendCodePoint(Gen.oneOf(r, 'a', '.', '/', '%', ' ', 'Z', '7', '\u00e9', '\u4e2d', '-'));
    }
    return sb.toString();
  }
}
