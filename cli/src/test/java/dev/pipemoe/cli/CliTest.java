package dev.pipemoe.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line against {@link FakeService}: options, exit codes, problem details, watch's resume. */
class CliTest {
  static final String JOB = """
      {"id":"j1","name":"e8","state":"RUNNING","attempt":1,"maxAttempts":3,
       "effective":{"schedule":"mindspeed","worldSize":4,"training":{"steps":4,"warmupSteps":1},
                    "resources":{"deviceType":"cpu","devices":4}}}""";
  static final String SUMMARY = """
      {"jobId":"j1","state":"SUCCEEDED","attempt":1,"ranks":4,"steps":4,"warmupSteps":1,"stepsDone":4,"measuredSteps":3,
       "tflopsPerDevice":0.0125,"hardwareTflopsPerDevice":0.013,"tokensPerSecond":1000.0,
       "stepSeconds":{"mean":0.1,"p50":0.1,"p90":0.12,"p99":0.12},"exposedCommShare":0.25,"lastLoss":0.5,"droppedTokens":7,
       "lossTrend":{"window":2,"firstMean":0.9,"lastMean":0.55}}""";

  @TempDir
  Path dir;

  final FakeService service = new FakeService();
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @AfterEach
  void stop() throws Exception {
    service.close();
  }

  int run(Map<String, String> env, String... args) {
    Map<String, String> e = new HashMap<>(env);
    e.putIfAbsent("PIPEMOE_CONFIG", dir.resolve("none").toString());
    return Main.commandLine(e, false).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
  }

  int run(String... args) {
    return run(Map.of("PIPEMOE_URL", service.url(), "PIPEMOE_TOKEN", "pmt_user"), args);
  }

  @Test
  void optionsGivenAfterTheCommandReachTheService() {
    service.json("GET", "/api/v1/jobs", 200, "{\"jobs\":[]}");
    assertThat(run(Map.of(), "jobs", "--url", service.url(), "--token", "pmt_x", "--state", "QUEUED,RUNNING"))
        .as(err.toString()).isZero();
    FakeService.Request r = service.requests.getFirst();
    assertThat(r.path()).isEqualTo("/api/v1/jobs?state=QUEUED%2CRUNNING");
    assertThat(r.headers().get("authorization")).isEqualTo("Bearer pmt_x");
    assertThat(out.toString()).isEqualTo("no jobs\n");
  }

  @Test
  void usageErrorsExitWith2() {
    assertThat(run("submit")).isEqualTo(2);
    assertThat(err.toString()).contains("what to submit?");
    assertThat(run("compare", "only-one")).isEqualTo(2);
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(service.requests).isEmpty();
  }

  @Test
  void aRefusedJobPrintsEveryRuleWithItsFieldAndExits3() {
    service.json("POST", "/api/v1/jobs", 422, """
        {"type":"https://pipemoe.dev/problems/invalid-job","title":"Invalid job spec","status":422,
         "detail":"the job spec breaks 2 rules",
         "errors":[{"pointer":"/pipeExperts/multiStream","flag":"--pipe-experts-multi-stream","rule":"V2","message":"V2: needs --sequence-parallel"},
                   {"pointer":"/pipeExperts/multiData","flag":"--pipe-experts-multi-data","rule":"V7","message":"V7: 600 > C = 128"}]}""");
    assertThat(run("submit", "--name", "bad", "--", "--num-experts", "8", "--pipe-experts-multi-data", "600")).isEqualTo(3);
    assertThat(err.toString()).isEqualTo("""
        refused: Invalid job spec (422): the job spec breaks 2 rules
        2 rules:
          V2  /pipeExperts/multiStream (--pipe-experts-multi-stream): needs --sequence-parallel
          V7  /pipeExperts/multiData (--pipe-experts-multi-data): 600 > C = 128
        """);
    assertThat(service.requests.getFirst().body())
        .isEqualTo("{\"name\":\"bad\",\"args\":\"--num-experts 8 --pipe-experts-multi-data 600\"}");
  }

  @Test
  void anUnknownJobExits4AndJsonOutputPrintsTheProblemAsIs() {
    assertThat(run("-o", "json", "get", "nope")).isEqualTo(4);
    assertThat(err.toString()).startsWith("{\"title\":\"Not Found\",\"status\":404");
  }

  @Test
  void noTokenAnywhereSaysWhereToPutOne() {
    assertThat(run(Map.of("PIPEMOE_URL", service.url()), "jobs")).isEqualTo(1);
    assertThat(err.toString()).contains("no token").contains("PIPEMOE_TOKEN").contains(dir.resolve("none").toString());
  }

  @Test
  void watchResumesADroppedStreamFromTheLastEventItSawAndEndsWithTheSummary() {
    AtomicInteger connections = new AtomicInteger();
    service.json("GET", "/api/v1/jobs/j1", 200, JOB).json("GET", "/api/v1/jobs/j1/summary", 200, SUMMARY)
        .raw("GET", "/api/v1/jobs/j1/stream", (r, socket, o) -> {
          FakeService.streamHead(o);
          if (connections.getAndIncrement() == 0) {
            FakeService.chunk(o, state(2, "QUEUED", "RUNNING", "LEASED") + step(2, 0) + step(2, 1));
            awaitOutput("step 2/4");  // the client has shown what came before the cut
            o.write("40\r\nevent:step\nid:2:1:2\nda".getBytes());  // cut off in the middle of a chunk
            o.flush();
            socket.close();
          } else {
            FakeService.chunk(o, step(2, 2) + step(2, 3) + state(3, "RUNNING", "SUCCEEDED", "SUCCEEDED")
                + "event:end\nid:3:1:3\ndata:{\"state\":\"SUCCEEDED\"}\n\n");
            FakeService.lastChunk(o);
          }
        });
    assertThat(run("watch", "j1")).as(err.toString()).isZero();
    assertThat(connections).as(out.toString()).hasValue(2);
    assertThat(out.toString()).as("shown before the drop").contains("step 2/4");
    assertThat(service.requests.stream().filter(r -> r.path().endsWith("/stream")).map(r -> r.headers().get("last-event-id")))
        .containsExactly(null, "2:1:1");
    String text = out.toString();
    assertThat(text).contains("QUEUED → RUNNING  LEASED").contains("connection lost").contains("resuming after event 2:1:1\nresumed after event 2:1:1\n")
        .contains("step 4/4 (attempt 1)").contains("SUCCEEDED, 4 of 4 steps")
        .contains("  TFLOP/s per device  0.01250 (hardware 0.01300), over 3 measured steps\n")
        .contains("  step time           100.0 ms mean, p50 100.0 ms, p90 120.0 ms, p99 120.0 ms\n")
        .contains("  exposed comm        25.0 % of the step\n");
    // every step shown once, in order: nothing repeated or lost across the reconnect
    assertThat(text.lines().filter(l -> l.startsWith("step ")).map(l -> l.substring(0, l.indexOf(' ', 5))))
        .containsExactly("step 1/4", "step 2/4", "step 3/4", "step 4/4");
  }

  @Test
  void watchGivesUpOnlyAfterTheGiveUpTimeWithoutAnyEvent() {
    AtomicInteger connections = new AtomicInteger();
    service.json("GET", "/api/v1/jobs/j1", 200, JOB).json("GET", "/api/v1/jobs/j1/summary", 200, SUMMARY)
        .raw("GET", "/api/v1/jobs/j1/stream", (r, socket, o) -> {
          FakeService.streamHead(o);
          if (connections.getAndIncrement() == 0) {
            // a stream that lives longer than the give-up time, then breaks: resumed all the same
            for (int step = 0; step < 3; step++) {
              FakeService.chunk(o, step(2, step));
              pause(600);
            }
            socket.close();
          } else {
            FakeService.chunk(o, step(2, 3) + "event:end\nid:3:1:3\ndata:{\"state\":\"SUCCEEDED\"}\n\n");
            FakeService.lastChunk(o);
          }
        });
    assertThat(run("watch", "j1", "--give-up-after", "PT1S")).as(out + "\n" + err).isZero();
    assertThat(connections).hasValue(2);

    service.json("GET", "/api/v1/jobs/j2", 200, JOB.replace("j1", "j2"))
        .json("GET", "/api/v1/jobs/j2/stream", 503, "{\"title\":\"Service Unavailable\",\"status\":503}");
    assertThat(run("watch", "j2", "--give-up-after", "PT1S")).isEqualTo(1);
    assertThat(err.toString()).contains("lost the stream of j2 and could not resume it for 1 s");
  }

  static void pause(long millis) {
    try {
      Thread.sleep(millis);  // the service's pace, not a wait for the client
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void watchOfAJobThatFailedExits5() {
    service.json("GET", "/api/v1/jobs/j1", 200, JOB).json("GET", "/api/v1/jobs/j1/summary", 200,
            SUMMARY.replace("SUCCEEDED", "FAILED"))
        .raw("GET", "/api/v1/jobs/j1/stream", (r, socket, o) -> {
          FakeService.streamHead(o);
          FakeService.chunk(o, state(3, "RUNNING", "FAILED", "FAILED") + "event:end\nid:3:1:-1\ndata:{\"state\":\"FAILED\"}\n\n");
          FakeService.lastChunk(o);
        });
    assertThat(run("watch", "j1")).isEqualTo(5);
    assertThat(out.toString()).contains("RUNNING → FAILED  FAILED").contains("e8 (j1): FAILED");
  }

  @Test
  void watchWithJsonOutputPrintsOneJsonLinePerEventAndTheSummaryLast() {
    service.json("GET", "/api/v1/jobs/j1", 200, JOB).json("GET", "/api/v1/jobs/j1/summary", 200, SUMMARY)
        .raw("GET", "/api/v1/jobs/j1/stream", (r, socket, o) -> {
          FakeService.streamHead(o);
          FakeService.chunk(o, step(1, 0) + "event:end\nid:3:1:0\ndata:{\"state\":\"SUCCEEDED\"}\n\n");
          FakeService.lastChunk(o);
        });
    assertThat(run("watch", "j1", "--output", "json")).isZero();
    assertThat(out.toString().lines().map(l -> Api.JSON.readTree(l).path("event").asString()))
        .containsExactly("step", "end", "summary");
  }

  @Test
  void getShowsTheSummaryWithTheLossTrend() {
    service.json("GET", "/api/v1/jobs/j1", 200, JOB).json("GET", "/api/v1/jobs/j1/summary", 200, SUMMARY);
    assertThat(run("get", "j1")).as(err.toString()).isZero();
    assertThat(out.toString()).contains("0.5000 (last step); mean of the first 2 steps 0.9000, of the last 2 0.5500");
  }

  @Test
  void theCompletionScriptCompletesTheCommands() {
    assertThat(run("completion")).isZero();
    assertThat(out.toString()).contains("complete -F _complete_pipemoe").contains("submit").contains("compare")
        .contains("predict").contains("sim:ascend-910c")
        .contains("bashcompinit");
  }

  /** Waits (up to 10 s) until the command has printed {@code text}. */
  void awaitOutput(String text) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!out.toString().contains(text)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the command never printed " + text + "; it printed: " + out);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  static String state(int id, String from, String to, String reason) {
    return "event:state\nid:" + id + ":1:-1\ndata:{\"id\":" + id + ",\"at\":\"2026-12-04T17:00:0" + id + ".5Z\",\"from\":\""
        + from + "\",\"to\":\"" + to + "\",\"reason\":\"" + reason + "\",\"message\":\"m\",\"attempt\":1}\n\n";
  }

  static String step(int lastEvent, int step) {
    return "event:step\nid:" + lastEvent + ":1:" + step + "\ndata:{\"attempt\":1,\"step\":" + step
        + ",\"ranks\":4,\"stepSeconds\":0.1,\"exposedCommSeconds\":0.025,\"tflopsPerDevice\":0.0125,\"loss\":0.5}\n\n";
  }
}
