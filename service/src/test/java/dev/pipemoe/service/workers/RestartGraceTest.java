package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.service.SchedulerTest;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A restart of the service: leases that expired while it was down are not judged until the
 * workers had a lease timeout to check in with the running service (LeaseGrace). A worker that
 * kept running renews its lease, or reports its end, and loses nothing; one that stays silent
 * through the grace period is lost as before. The restart is played by starting the grace period
 * again (what the ready event does) and moving the leases' expiry into the past, as a downtime of
 * a minute would have left them.
 */
class RestartGraceTest extends SchedulerTest {

  @Autowired
  LeaseSweeper sweeper;

  @Test
  void leasesThatExpiredDuringAnOutageWaitForTheWorkersAfterTheRestart() {
    Running renewing = running("grace-renews", 1, 5);
    Running finished = running("grace-finished", 1, 5);
    Running silent = running("grace-silent", 1, 5);

    sweeper.ready();   // the service is ready again after its outage
    awaitSweeps();     // no pass that began before the restart is still running
    expireLeases(Duration.ofSeconds(60), renewing, finished, silent);
    awaitSweeps();

    assertThat(List.of(state(renewing), state(finished), state(silent))).as("judged in the grace period")
        .containsOnly("RUNNING");
    // the worker that finished during the outage reports it now: accepted, the job is done
    finished.worker().succeeded(finished.a().ref(), 5);
    assertThat(state(finished)).isEqualTo("SUCCEEDED");
    clock.advance(Duration.ofSeconds(15));
    assertThat(renewing.worker().heartbeat(List.of(renewing.a().ref()), 0).lost()).isEmpty();
    clock.advance(Duration.ofSeconds(16)); // past the grace period, within the renewed lease

    await("the silent worker's attempt to be lost", Duration.ofSeconds(10), () -> state(silent), "QUEUED"::equals);
    assertThat(lastEvent(silent.user(), silent.id()).get("message").stringValue()).contains("LEASE_EXPIRED");
    awaitSweeps();
    assertThat(state(renewing)).isEqualTo("RUNNING");
    renewing.worker().succeeded(renewing.a().ref(), 5);
    assertThat(reasons(renewing.user(), renewing.id())).containsExactly("SUBMITTED", "LEASED", "STARTED", "SUCCEEDED");
    assertThat(reasons(finished.user(), finished.id())).containsExactly("SUBMITTED", "LEASED", "STARTED", "SUCCEEDED");
  }

  @Test
  void aLateReportAfterTheGracePeriodIsStillRefused() {
    Running late = running("grace-late", 1, 5);
    clock.advance(Duration.ofSeconds(31));
    await("the silent attempt to be lost", Duration.ofSeconds(10), () -> state(late), "QUEUED"::equals);

    assertThat(late.worker().status(late.a().ref(), new AttemptStatus(AttemptStatus.State.SUCCEEDED, null, null,
        null)).status()).isEqualTo(409);
  }

  private String state(Running r) {
    return state(r.user(), r.id());
  }

  private void expireLeases(Duration ago, Running... running) {
    Timestamp past = Timestamp.from(clock.instant().minus(ago));
    for (Running r : running) {
      assertThat(jdbc.update("update attempts set lease_expires_at = ? where job_id = ? and attempt = ?", past,
          UUID.fromString(r.id()), r.a().attempt())).isOne();
    }
  }
}
