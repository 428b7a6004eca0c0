package dev.pipemoe.service.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.Specs;
import dev.pipemoe.service.security.Role;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The jobs API end to end: the three forms, get, dry run, idempotency, cancel and events. */
class JobsApiTest extends ApiTest {

  @Autowired
  JobRepository jobs;

  @Autowired
  JobEventRepository events;

  @Autowired
  TransactionTemplate tx;

  String alice;
  String aliceName;
  String bob;

  @BeforeEach
  void users() {
    aliceName = uniqueOwner("alice");
    alice = token(aliceName, Role.USER);
    bob = token(uniqueOwner("bob"), Role.USER);
  }

  @Test
  void jsonSubmitStoresTheSpecAsGivenAndTheEffectiveConfig() {
    Http.Response response = submit(alice, Specs.valid("e8-ep4"));

    assertThat(response.status()).isEqualTo(201);
    assertThat(response.contentType()).startsWith("application/json");
    JsonNode job = response.json();
    assertThat(response.header("Location")).isEqualTo("/api/v1/jobs/" + job.get("id").stringValue());
    assertThat(job.get("state").stringValue()).isEqualTo("QUEUED");
    assertThat(job.get("owner").stringValue()).isEqualTo(aliceName);
    assertThat(job.get("form").stringValue()).isEqualTo("json");
    assertThat(job.get("attempt").intValue()).isZero();
    assertThat(job.get("maxAttempts").intValue()).isEqualTo(3);
    ObjectNode given = Specs.valid("e8-ep4");
    given.remove("name");
    assertThat(job.get("spec")).isEqualTo(given);
    JsonNode effective = job.get("effective");
    assertThat(effective.at("/model/moeModelType").stringValue()).isEqualTo("deepspeed_moe");
    assertThat(effective.at("/model/dtype").stringValue()).isEqualTo("fp32");
    assertThat(effective.at("/parallel/data").intValue()).isEqualTo(4);
    assertThat(effective.at("/fabric/profile").stringValue()).isEqualTo("ascend-910c");
    assertThat(effective.get("schedule").stringValue()).isEqualTo("mindspeed");
    assertThat(effective.get("capacity").intValue()).isEqualTo(64);
    assertThat(effective.get("worldSize").intValue()).isEqualTo(8);
    assertThat(job.get("warnings").isEmpty()).isTrue();
    assertThat(job.get("notes").size()).isPositive();

    Http.Response fetched = http.get(response.header("Location")).token(alice).send();
    assertThat(fetched.status()).isEqualTo(200);
    assertThat(fetched.json()).isEqualTo(job);
  }

  @Test
  void specKeyOrderComesBackAsGiven() {
    String body = "{\"pipeExperts\":{\"multiData\":2,\"enabled\":true},\"name\":\"ordered\","
        + "\"parallel\":{\"sequenceParallel\":true,\"expert\":4,\"tensor\":2},"
        + "\"model\":{\"numExperts\":8,\"moeModelType\":\"deepspeed_moe\"}}";
    JsonNode job = submitted(alice, body);
    assertThat(job.get("spec").toString()).isEqualTo("{\"pipeExperts\":{\"multiData\":2,\"enabled\":true},"
        + "\"parallel\":{\"sequenceParallel\":true,\"expert\":4,\"tensor\":2},"
        + "\"model\":{\"numExperts\":8,\"moeModelType\":\"deepspeed_moe\"}}");
  }

  @Test
  void yamlSubmitMeansTheSameAsJson() {
    String yaml = """
        name: yaml-e8  # comments are fine
        model:
          moeModelType: deepspeed_moe
          numExperts: 8
        parallel: {tensor: 2, expert: 4, sequenceParallel: true}
        pipeExperts:
          enabled: true
        """;
    Http.Response response = http.post("/api/v1/jobs").token(alice).yaml(yaml).send();

    assertThat(response.status()).as("%s", response).isEqualTo(201);
    JsonNode job = response.json();
    assertThat(job.get("form").stringValue()).isEqualTo("yaml");
    JsonNode fromJson = submitted(alice, Specs.valid("json-e8"));
    assertThat(job.get("spec")).isEqualTo(fromJson.get("spec"));
    assertThat(job.get("effective")).isEqualTo(fromJson.get("effective"));
  }

  @Test
  void argsSubmitKeepsTheStringAndShowsTheSpecItDescribes() {
    String args = "--moe-model-type deepspeed_moe --num-experts 8 --tensor-model-parallel-size 2"
        + " --expert-model-parallel-size 4 --sequence-parallel --use-pipe-experts --num-query-groups 8";
    JsonNode job = submitted(alice, "{\"name\":\"pasted\",\"args\":\"" + args + "\"}");

    assertThat(job.get("form").stringValue()).isEqualTo("args");
    assertThat(job.get("args").stringValue()).isEqualTo(args);
    ObjectNode expected = Specs.valid("x");
    expected.remove("name");
    assertThat(job.get("spec")).isEqualTo(expected);
    assertThat(job.get("effective")).isEqualTo(submitted(alice, Specs.valid("same-as-json")).get("effective"));
    // a Megatron flag that does not change the MoE layer is accepted with a warning, not kept
    assertThat(job.get("warnings")).singleElement().satisfies(w -> {
      assertThat(w.get("rule").stringValue()).isEqualTo("ARGS");
      assertThat(w.get("pointer").stringValue()).isEqualTo("/args");
      assertThat(w.get("flag").stringValue()).isEqualTo("--num-query-groups");
    });
  }

  @Test
  void aWholeModelJobShowsItsGptFieldsInTheEffectiveConfig() {
    JsonNode job = submitted(alice, Specs.with("gpt", "/model/numAttentionHeads", 4, "/model/vocabSize", 50257,
        "/training/globalBatchSize", 8, "/mindspeed/recomputeGranularity", "full"));
    JsonNode effective = job.get("effective");
    assertThat(effective.at("/model/architecture").stringValue()).isEqualTo("gpt");
    assertThat(effective.at("/parallel/context").intValue()).isEqualTo(1);
    assertThat(effective.at("/gpt/numAttentionHeads").intValue()).isEqualTo(4);
    assertThat(effective.at("/gpt/tokenizer").stringValue()).isEqualTo("byte");
    assertThat(effective.at("/gpt/paddedVocabSize").intValue()).isEqualTo(50432); // 128 x tp 2
    assertThat(effective.at("/gpt/microBatches").intValue()).isEqualTo(2); // 8 / (b 1 x dp 4)
    assertThat(effective.at("/gpt/recompute").booleanValue()).isTrue();
    assertThat(effective.at("/gpt/dataPath").isMissingNode()).as("generated corpus: no path").isTrue();
    assertThat(Specs.with("stack").at("/model/architecture").isMissingNode()).isTrue();
    assertThat(submitted(alice, Specs.valid("stack")).get("effective").has("gpt")).isFalse();
  }

  @Test
  void warningsComeBackWithTheAcceptedJob() {
    JsonNode job = submitted(alice, Specs.with("warned", "/parallel/expert", 8));
    assertThat(job.get("warnings")).singleElement().satisfies(w -> {
      assertThat(w.get("rule").stringValue()).isEqualTo("V3");
      assertThat(w.get("pointer").stringValue()).isEqualTo("/pipeExperts/enabled");
      assertThat(w.get("flag").stringValue()).isEqualTo("--use-pipe-experts");
      assertThat(w.get("message").stringValue()).contains("switched off");
    });
    assertThat(job.at("/effective/schedule").stringValue()).isEqualTo("serial");
  }

  @Test
  void dryRunValidatesAndStoresNothing() {
    int before = aliceJobs();
    Http.Response dry = http.post("/api/v1/jobs?dryRun=true").token(alice).json(Specs.valid("dry")).send();

    assertThat(dry.status()).isEqualTo(200);
    assertThat(dry.header("Location")).isNull();
    JsonNode body = dry.json();
    assertThat(body.get("dryRun").booleanValue()).isTrue();
    assertThat(body.has("id")).isFalse();
    assertThat(body.has("state")).isFalse();
    assertThat(body.get("effective")).isEqualTo(submitted(alice, Specs.valid("wet")).get("effective"));
    assertThat(aliceJobs()).isEqualTo(before + 1); // only the wet one

    Http.Response invalid = http.post("/api/v1/jobs?dryRun=true").token(alice)
        .json(Specs.with("dry", "/pipeExperts/multiData", 0)).send();
    assertThat(invalid.status()).isEqualTo(422);
  }

  @Test
  void sameIdempotencyKeyAndBodyReturnTheFirstJob() {
    String key = UUID.randomUUID().toString();
    Http.Response first = http.post("/api/v1/jobs").token(alice).header("Idempotency-Key", key)
        .json(Specs.valid("once")).send();
    // the same fields in another order, and as YAML: the same body
    Http.Response again = http.post("/api/v1/jobs").token(alice).header("Idempotency-Key", key).yaml("""
        pipeExperts: {enabled: true}
        parallel: {sequenceParallel: true, expert: 4, tensor: 2}
        model: {numExperts: 8, moeModelType: deepspeed_moe}
        name: once
        """).send();

    assertThat(first.status()).isEqualTo(201);
    assertThat(first.header("Idempotent-Replayed")).isNull();
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(again.header("Location")).isEqualTo(first.header("Location"));
    assertThat(again.json().get("id")).isEqualTo(first.json().get("id"));
    assertThat(again.json().get("form").stringValue()).isEqualTo("json"); // the stored job, as first given
  }

  @Test
  void anIntegerWrittenAsAnIntegralDecimalIsTheSameBody() {
    String key = UUID.randomUUID().toString();
    Http.Response first = http.post("/api/v1/jobs").token(alice).header("Idempotency-Key", key)
        .json(Specs.valid("numbers")).send();
    Http.Response again = http.post("/api/v1/jobs").token(alice).header("Idempotency-Key", key).json("""
        {"name": "numbers", "model": {"moeModelType": "deepspeed_moe", "numExperts": 8.0},
         "parallel": {"tensor": 2.00, "expert": 4e0, "sequenceParallel": true}, "pipeExperts": {"enabled": true}}
        """).send();
    Http.Response other = http.post("/api/v1/jobs").token(alice).header("Idempotency-Key", key).json("""
        {"name": "numbers", "model": {"moeModelType": "deepspeed_moe", "numExperts": 8},
         "parallel": {"tensor": 2, "expert": 4, "sequenceParallel": true}, "pipeExperts": {"enabled": false}}
        """).send();

    assertThat(first.status()).isEqualTo(201);
    assertThat(again.status()).as("8.0 for 8: %s", again).isEqualTo(201);
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(again.json().get("id")).isEqualTo(first.json().get("id"));
    assertThat(other.status()).as("another body: %s", other).isEqualTo(422);
  }

  @Test
  void sameIdempotencyKeyWithAnotherBodyIs422() {
    String key = UUID.randomUUID().toString();
    JsonNode first = http.post("/api/v1/jobs").token(alice).header("Idempotency-Key", key)
        .json(Specs.valid("first")).send().json();
    Http.Response other = http.post("/api/v1/jobs").token(alice).header("Idempotency-Key", key)
        .json(Specs.valid("second")).send();

    assertThat(other.status()).isEqualTo(422);
    assertThat(other.contentType()).isEqualTo("application/problem+json");
    assertThat(other.json().get("type").stringValue()).isEqualTo("https://pipemoe.dev/problems/idempotency-key-reused");
    assertThat(other.json().get("detail").stringValue()).contains(first.get("id").stringValue());
  }

  @Test
  void idempotencyKeysBelongToTheirOwner() {
    String key = UUID.randomUUID().toString();
    JsonNode mine = http.post("/api/v1/jobs").token(alice).header("Idempotency-Key", key).json(Specs.valid("k")).send().json();
    Http.Response theirs = http.post("/api/v1/jobs").token(bob).header("Idempotency-Key", key).json(Specs.valid("k")).send();

    assertThat(theirs.status()).isEqualTo(201);
    assertThat(theirs.header("Idempotent-Replayed")).isNull();
    assertThat(theirs.json().get("id")).isNotEqualTo(mine.get("id"));
  }

  @Test
  void concurrentRetriesWithOneKeyCreateOneJob() throws Exception {
    String key = UUID.randomUUID().toString();
    String owner = uniqueOwner("racer");
    String racer = token(owner, Role.USER);
    int clients = 8;
    List<Callable<Http.Response>> calls = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      calls.add(() -> http.post("/api/v1/jobs").token(racer).header("Idempotency-Key", key).json(Specs.valid("race")).send());
    }
    List<Http.Response> responses = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
      for (Future<Http.Response> f : pool.invokeAll(calls)) {
        responses.add(f.get());
      }
    }

    assertThat(responses).allSatisfy(r -> assertThat(r.status()).as("%s", r).isEqualTo(201));
    assertThat(responses.stream().map(r -> r.json().get("id").stringValue()).distinct()).hasSize(1);
    assertThat(responses.stream().filter(r -> r.header("Idempotent-Replayed") == null)).hasSize(1);
    JsonNode listed = http.get("/api/v1/jobs").token(racer).send().json().get("jobs");
    assertThat(listed.size()).isEqualTo(1);
  }

  @Test
  void malformedIdempotencyKeysAre400() {
    for (String key : List.of("has space", "x".repeat(256), "tab\tkey")) {
      Http.Response response = http.post("/api/v1/jobs").token(alice).header("Idempotency-Key", key)
          .json(Specs.valid("k")).send();
      assertThat(response.status()).as(key).isEqualTo(400);
      assertThat(response.json().get("parameter").stringValue()).isEqualTo("Idempotency-Key");
    }
  }

  @Test
  void cancellingAQueuedJobCancelsItOnceAndIsIdempotent() {
    String id = submitted(alice, Specs.valid("to-cancel")).get("id").stringValue();

    Http.Response first = http.post("/api/v1/jobs/" + id + "/cancel").token(alice).send();
    Http.Response second = http.post("/api/v1/jobs/" + id + "/cancel").token(alice).send();

    assertThat(first.status()).isEqualTo(200);
    assertThat(first.json().get("state").stringValue()).isEqualTo("CANCELLED");
    assertThat(first.json().has("finishedAt")).isTrue();
    assertThat(second.status()).isEqualTo(200);
    assertThat(second.json()).isEqualTo(first.json());
    JsonNode eventList = events(alice, id);
    assertThat(eventList).hasSize(2);
    assertThat(eventList.get(1).get("reason").stringValue()).isEqualTo("CANCELLED_BEFORE_START");
  }

  @Test
  void cancellingARunningJobAsksTheWorkerToStop() {
    UUID id = UUID.fromString(submitted(alice, Specs.valid("running")).get("id").stringValue());
    move(id, JobState.RUNNING);

    JsonNode cancelled = http.post("/api/v1/jobs/" + id + "/cancel").token(alice).send().json();
    JsonNode again = http.post("/api/v1/jobs/" + id + "/cancel").token(alice).send().json();

    assertThat(cancelled.get("state").stringValue()).isEqualTo("CANCELLING");
    assertThat(cancelled.has("finishedAt")).isFalse();
    assertThat(again.get("state").stringValue()).isEqualTo("CANCELLING");
    JsonNode eventList = events(alice, id.toString());
    assertThat(eventList).extracting(e -> e.get("to").stringValue()).containsExactly("QUEUED", "RUNNING", "CANCELLING");
    assertThat(eventList.get(2).get("reason").stringValue()).isEqualTo("CANCEL_REQUESTED");
  }

  @Test
  void cancellingAFinishedJobReturnsItUnchanged() {
    UUID id = UUID.fromString(submitted(alice, Specs.valid("done")).get("id").stringValue());
    move(id, JobState.RUNNING, JobState.SUCCEEDED);

    Http.Response response = http.post("/api/v1/jobs/" + id + "/cancel").token(alice).send();

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().get("state").stringValue()).isEqualTo("SUCCEEDED");
    assertThat(events(alice, id.toString())).hasSize(3);
  }

  @Test
  void eventsRecordEveryChangeWithTimeReasonAndMessage() {
    JsonNode job = submitted(alice, Specs.valid("evented"));
    String id = job.get("id").stringValue();
    http.post("/api/v1/jobs/" + id + "/cancel").token(alice).send();

    Http.Response response = http.get("/api/v1/jobs/" + id + "/events").token(alice).send();

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().get("jobId").stringValue()).isEqualTo(id);
    JsonNode list = response.json().get("events");
    JsonNode submittedEvent = list.get(0);
    assertThat(submittedEvent.has("from")).isFalse();
    assertThat(submittedEvent.get("to").stringValue()).isEqualTo("QUEUED");
    assertThat(submittedEvent.get("reason").stringValue()).isEqualTo("SUBMITTED");
    assertThat(submittedEvent.get("message").stringValue()).contains(aliceName).contains("json");
    assertThat(submittedEvent.get("at").stringValue()).isEqualTo(job.get("createdAt").stringValue());
    assertThat(submittedEvent.get("actor").stringValue()).isEqualTo(aliceName);
    JsonNode cancelEvent = list.get(1);
    assertThat(cancelEvent.get("from").stringValue()).isEqualTo("QUEUED");
    assertThat(cancelEvent.get("to").stringValue()).isEqualTo("CANCELLED");
    assertThat(Instant.parse(cancelEvent.get("at").stringValue())).isAfterOrEqualTo(Instant.parse(submittedEvent.get("at").stringValue()));
  }

  @Test
  void unknownAndMalformedIdsAre404() {
    for (String path : List.of("/api/v1/jobs/" + UUID.randomUUID(), "/api/v1/jobs/not-a-uuid",
        "/api/v1/jobs/" + UUID.randomUUID() + "/events")) {
      Http.Response response = http.get(path).token(alice).send();
      assertThat(response.status()).as(path).isEqualTo(404);
      assertThat(response.contentType()).isEqualTo("application/problem+json");
    }
    assertThat(http.post("/api/v1/jobs/" + UUID.randomUUID() + "/cancel").token(alice).send().status()).isEqualTo(404);
  }

  @Test
  void otherOwnersJobsAre404ForUsersAndVisibleToAdmins() {
    String id = submitted(alice, Specs.valid("private")).get("id").stringValue();

    assertThat(http.get("/api/v1/jobs/" + id).token(bob).send().status()).isEqualTo(404);
    assertThat(http.post("/api/v1/jobs/" + id + "/cancel").token(bob).send().status()).isEqualTo(404);
    assertThat(http.get("/api/v1/jobs/" + id).token(ADMIN_TOKEN).send().status()).isEqualTo(200);
    assertThat(http.get("/api/v1/jobs/" + id).token(alice).send().json().get("state").stringValue()).isEqualTo("QUEUED");
  }

  private int aliceJobs() {
    return http.get("/api/v1/jobs?pageSize=100").token(alice).send().json().get("jobs").size();
  }

  /**
   * What the scheduling issue's worker side will do: move a job along, with its events. Each move
   * is flushed on its own: the database checks every move it sees, and one update from QUEUED
   * straight to SUCCEEDED is not a move JobState allows.
   */
  private void move(UUID id, JobState... path) {
    tx.executeWithoutResult(status -> {
      Job job = jobs.findById(id).orElseThrow();
      for (JobState to : path) {
        events.save(job.transition(to, "TEST", "moved by the test", "test", Instant.now().truncatedTo(ChronoUnit.MICROS)));
        jobs.saveAndFlush(job);
      }
    });
  }
}
