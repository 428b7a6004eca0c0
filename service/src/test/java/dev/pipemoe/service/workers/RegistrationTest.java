package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.Heartbeat;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.security.Role;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Registration, identity, heartbeats and the fleet listing. */
class RegistrationTest extends SchedulerTest {

  @Test
  void registrationAnswersTheIdAndIsoDurations() {
    String token = token(uniqueOwner("fleet"), Role.WORKER);
    Http.Response r = http.post("/api/v1/workers").token(token).json(Map.of("name", uniqueOwner("node"),
        "bootId", "b1", "deviceType", "cpu", "devices", 8, "fabrics", List.of("local"), "version", "1.0")).send();

    assertThat(r.status()).as("%s", r).isEqualTo(200);
    JsonNode body = r.json();
    assertThat(UUID.fromString(body.get("workerId").stringValue())).isNotNull();
    assertThat(body.get("heartbeatInterval").stringValue()).isEqualTo("PT1S");
    assertThat(body.get("leaseTimeout").stringValue()).isEqualTo("PT30S");
    assertThat(body.get("pollTimeout").stringValue()).isEqualTo("PT5S");
  }

  @Test
  void theSameNameKeepsItsIdAcrossRestarts() {
    String token = token(uniqueOwner("fleet"), Role.WORKER);
    TestWorker worker = new TestWorker(http, token, uniqueOwner("node"), "cpu", 8).register();
    String first = worker.id();

    assertThat(worker.register().id()).isEqualTo(first);
    assertThat(worker.restart().id()).isEqualTo(first);
  }

  @Test
  void aNameRegisteredByAnotherOwnerIsRefused() {
    String name = uniqueOwner("node");
    new TestWorker(http, token(uniqueOwner("team-a"), Role.WORKER), name, "cpu", 8).register();

    Http.Response r = http.post("/api/v1/workers").token(token(uniqueOwner("team-b"), Role.WORKER))
        .json(Map.of("name", name, "bootId", "x", "deviceType", "cpu", "devices", 1, "fabrics", List.of(),
            "version", "1")).send();

    assertThat(r.status()).isEqualTo(409);
    assertThat(r.json().get("type").stringValue()).isEqualTo("https://pipemoe.dev/problems/worker-name-taken");
  }

  @Test
  void everyBadRegistrationFieldIsListed() {
    Http.Response r = http.post("/api/v1/workers").token(token(uniqueOwner("fleet"), Role.WORKER))
        .json(Map.of("name", "-bad", "bootId", "", "deviceType", "tpu", "devices", 0, "fabrics", List.of(),
            "version", "1")).send();

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.contentType()).isEqualTo("application/problem+json");
    assertThat(r.json().get("errors").valueStream().map(e -> e.get("pointer").stringValue()))
        .containsExactly("/name", "/bootId", "/deviceType", "/devices");
  }

  @Test
  void unknownFieldsAndOtherOwnersWorkersAreRefused() {
    String token = token(uniqueOwner("fleet"), Role.WORKER);
    TestWorker worker = new TestWorker(http, token, uniqueOwner("node"), "cpu", 8).register();
    Http.Response unknown = http.post("/api/v1/workers/" + worker.id() + "/heartbeat").token(token)
        .json(Map.of("running", List.of(), "freeDevices", 8, "gpuTemp", 80)).send();
    Http.Response stranger = http.post("/api/v1/workers/" + worker.id() + "/heartbeat")
        .token(token(uniqueOwner("other"), Role.WORKER)).json(new Heartbeat.Request(List.of(), 8)).send();
    Http.Response nobody = http.post("/api/v1/workers/" + UUID.randomUUID() + "/heartbeat").token(token)
        .json(new Heartbeat.Request(List.of(), 8)).send();

    assertThat(unknown.status()).isEqualTo(400);
    assertThat(stranger.status()).isEqualTo(404);
    assertThat(nobody.status()).isEqualTo(404);
    assertThat(nobody.json().get("detail").stringValue()).contains("register again");
  }

  @Test
  void aHeartbeatRenewsItsLeasesAndAnswersUnknownAttemptsAsLost() {
    String user = token(uniqueOwner("renew"), Role.USER);
    TestWorker worker = worker(8);
    submitId(user, smallJob("renewed", 2, 5));
    Assignment a = worker.leaseOne();
    AttemptRef stranger = new AttemptRef(UUID.randomUUID().toString(), 1);
    AttemptRef garbage = new AttemptRef("not-a-job", 1);

    clock.advance(Duration.ofSeconds(10));
    Heartbeat.Response beat = worker.heartbeat(List.of(a.ref(), stranger, garbage), 6);

    assertThat(beat.cancel()).isEmpty();
    assertThat(beat.lost()).containsExactly(stranger, garbage);
    assertThat(beat.leaseExpiresAt()).isAfter(a.leaseExpiresAt());
    clock.advance(Duration.ofSeconds(25)); // past the first lease, within the renewed one
    awaitSweeps();
    assertThat(state(user, a.jobId())).isEqualTo("RUNNING");
  }

  @Test
  void theFleetListingShowsCapabilitiesFreeDevicesAndOnlyVisibleAttempts() {
    String ownerA = uniqueOwner("fleet-a");
    String user = token(uniqueOwner("lister"), Role.USER);
    String otherUser = token(uniqueOwner("other"), Role.USER);
    String workerToken = token(ownerA, Role.WORKER);
    TestWorker worker = new TestWorker(http, workerToken, uniqueOwner("node"), "cpu", 8).register();
    TestWorker foreign = new TestWorker(http, token(uniqueOwner("fleet-b"), Role.WORKER), uniqueOwner("node"),
        "h100", 4).register();
    String id = submitId(user, smallJob("listed", 2, 5));
    worker.leaseOne();

    JsonNode mine = find(http.get("/api/v1/workers").token(user).send().json(), worker.name());
    JsonNode notMine = find(http.get("/api/v1/workers").token(otherUser).send().json(), worker.name());
    JsonNode asWorker = http.get("/api/v1/workers").token(workerToken).send().json();

    assertThat(mine.get("deviceType").stringValue()).isEqualTo("cpu");
    assertThat(mine.get("devices").intValue()).isEqualTo(8);
    assertThat(mine.get("freeDevices").intValue()).isEqualTo(6);
    assertThat(mine.get("state").stringValue()).isEqualTo("ONLINE");
    assertThat(mine.get("fabrics").get(0).stringValue()).isEqualTo("local");
    assertThat(mine.get("liveAttempts").intValue()).isEqualTo(1);
    assertThat(mine.at("/attempts/0/jobId").stringValue()).isEqualTo(id);
    assertThat(notMine.get("liveAttempts").intValue()).isEqualTo(1);
    assertThat(notMine.get("attempts")).isEmpty();
    assertThat(asWorker.get("workers").valueStream().map(w -> w.get("name").stringValue()))
        .contains(worker.name()).doesNotContain(foreign.name());
    clock.advance(Duration.ofSeconds(31));
    assertThat(find(http.get("/api/v1/workers").token(user).send().json(), foreign.name()).get("state").stringValue())
        .isEqualTo("OFFLINE");
  }

  private static JsonNode find(JsonNode list, String name) {
    return list.get("workers").valueStream().filter(w -> w.get("name").stringValue().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no worker " + name + " in " + list));
  }
}
