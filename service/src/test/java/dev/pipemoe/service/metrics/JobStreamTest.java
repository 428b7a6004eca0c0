package dev.pipemoe.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.SseClient;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.security.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The live stream: state changes and complete steps, in order, resumable, ending with the job. */
class JobStreamTest extends SchedulerTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  void stepsArriveInOrderWhateverOrderTheBatchesCameIn() throws Exception {
    String user = token(uniqueOwner("live"), Role.USER);
    String id = submitId(user, smallJob("live", 2, 6));
    TestWorker worker = worker(2);
    try (SseClient stream = SseClient.open(port(), "/api/v1/jobs/" + id + "/stream", user, null)) {
      assertThat(stream.status()).isEqualTo(200);
      assertThat(stream.contentType()).startsWith("text/event-stream");
      assertThat(state(stream.next(WAIT))).isEqualTo("SUBMITTED");

      Assignment a = worker.leaseOne();
      worker.started(a.ref());
      assertThat(state(stream.next(WAIT))).isEqualTo("LEASED");
      assertThat(state(stream.next(WAIT))).isEqualTo("STARTED");
      // steps 3-5 first, then step 0 of one rank only: nothing may be sent before step 0 is complete
      worker.metrics(a.ref(), TestWorker.records(1, 3, 6, 2));
      worker.metrics(a.ref(), List.of(TestWorker.record(1, 0, 0)));
      worker.metrics(a.ref(), List.of(TestWorker.record(1, 0, 1)));
      worker.metrics(a.ref(), TestWorker.records(1, 1, 3, 2));
      List<Integer> steps = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        SseClient.Event e = stream.next(WAIT);
        assertThat(e.name()).isEqualTo("step");
        JsonNode step = Http.mapper().readTree(e.data());
        assertThat(step.get("ranks").intValue()).as("a step is sent complete").isEqualTo(2);
        steps.add(step.get("step").intValue());
      }
      assertThat(steps).containsExactly(0, 1, 2, 3, 4, 5);

      worker.succeeded(a.ref(), 6);
      assertThat(state(stream.next(WAIT))).isEqualTo("SUCCEEDED");
      SseClient.Event end = stream.next(WAIT);
      assertThat(end.name()).isEqualTo("end");
      assertThat(Http.mapper().readTree(end.data()).get("state").stringValue()).isEqualTo("SUCCEEDED");
      assertThat(stream.awaitEnd(WAIT)).as("the response completes when the job ends").isTrue();
    }
  }

  @Test
  void lastEventIdResumesExactlyAfterTheLastEventSeen() throws Exception {
    String user = token(uniqueOwner("resume"), Role.USER);
    String id = submitId(user, smallJob("resumed", 1, 8));
    TestWorker worker = worker(1);
    Assignment a = worker.leaseOne();
    worker.metrics(a.ref(), TestWorker.records(1, 0, 8, 1));
    worker.succeeded(a.ref(), 8);
    List<SseClient.Event> all = new ArrayList<>();
    try (SseClient stream = SseClient.open(port(), "/api/v1/jobs/" + id + "/stream", user, null)) {
      for (SseClient.Event e = stream.next(WAIT); !e.name().equals("end"); e = stream.next(WAIT)) {
        all.add(e);
      }
    }
    assertThat(all).hasSize(3 + 8); // SUBMITTED, LEASED, SUCCEEDED and 8 steps
    SseClient.Event middle = all.get(5);

    List<SseClient.Event> rest = new ArrayList<>();
    try (SseClient stream = SseClient.open(port(), "/api/v1/jobs/" + id + "/stream", user, middle.id())) {
      for (SseClient.Event e = stream.next(WAIT); !e.name().equals("end"); e = stream.next(WAIT)) {
        rest.add(e);
      }
    }

    assertThat(rest).isEqualTo(all.subList(6, all.size()));
  }

  @Test
  void attemptsAreStreamedOneAfterTheOtherAndQuietStreamsKeepAlive() throws Exception {
    String user = token(uniqueOwner("attempts"), Role.USER);
    String id = submitId(user, smallJob("twice", 1, 4));
    TestWorker worker = worker(1);
    Assignment first = worker.leaseOne();
    worker.metrics(first.ref(), TestWorker.records(1, 0, 2, 1));
    worker.restart(); // attempt 1 lost after two steps
    Assignment second = worker.leaseOne();
    try (SseClient stream = SseClient.open(port(), "/api/v1/jobs/" + id + "/stream", user, null)) {
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        seen.add(describe(stream.next(WAIT)));
      }
      // in the order it happened, although all of it was already stored when the stream began
      assertThat(seen).containsExactly("state SUBMITTED", "state LEASED", "step 1/0", "step 1/1",
          "state ATTEMPT_LOST", "state LEASED");
      await("a keep-alive comment", WAIT, () -> List.copyOf(stream.comments()), c -> c.contains("keep-alive"));

      worker.metrics(second.ref(), List.of(new StepMetrics(0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0)));
      assertThat(describe(stream.next(WAIT))).isEqualTo("step 2/0");
    }
  }

  @Test
  void lateStepsOfAnEarlierAttemptFollowMarkedWithTheirAttempt() throws Exception {
    String user = token(uniqueOwner("late"), Role.USER);
    String id = submitId(user, smallJob("late", 1, 4));
    TestWorker worker = worker(1);
    Assignment first = worker.leaseOne();
    worker.metrics(first.ref(), TestWorker.records(1, 0, 1, 1));
    worker.restart(); // attempt 1 lost after one step
    Assignment second = worker.leaseOne();
    try (SseClient stream = SseClient.open(port(), "/api/v1/jobs/" + id + "/stream", user, null)) {
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        seen.add(describe(stream.next(WAIT)));
      }
      assertThat(seen).containsExactly("state SUBMITTED", "state LEASED", "step 1/0", "state ATTEMPT_LOST",
          "state LEASED");
      worker.metrics(second.ref(), TestWorker.records(2, 0, 1, 1));
      assertThat(describe(stream.next(WAIT))).isEqualTo("step 2/0");

      // the old boot's spool drains now: its steps are stored under attempt 1, and the stream shows them
      worker.metrics(first.ref(), TestWorker.records(1, 1, 3, 1));
      assertThat(List.of(describe(stream.next(WAIT)), describe(stream.next(WAIT)))).containsExactly("step 1/1",
          "step 1/2");
      worker.metrics(second.ref(), TestWorker.records(2, 1, 2, 1));
      assertThat(describe(stream.next(WAIT))).isEqualTo("step 2/1");
    }
  }

  @Test
  void othersCannotFollowTheJob() {
    String user = token(uniqueOwner("owner"), Role.USER);
    String id = submitId(user, smallJob("private", 1, 4));

    Http.Response r = http.get("/api/v1/jobs/" + id + "/stream").token(token(uniqueOwner("nosy"), Role.USER)).send();
    Http.Response bad = http.get("/api/v1/jobs/" + id + "/stream").token(user).header("Last-Event-ID", "x").send();

    assertThat(r.status()).isEqualTo(404);
    assertThat(bad.status()).isEqualTo(400);
  }

  private static String state(SseClient.Event e) {
    assertThat(e.name()).isEqualTo("state");
    return Http.mapper().readTree(e.data()).get("reason").stringValue();
  }

  private static String describe(SseClient.Event e) {
    JsonNode data = Http.mapper().readTree(e.data());
    return e.name().equals("state") ? "state " + data.get("reason").stringValue()
        : e.name() + " " + data.get("attempt").intValue() + "/" + data.get("step").intValue();
  }
}
