package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** When the sweeper may judge leases: after a grace period from readiness and from every pause. */
class LeaseGraceTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final long S = 1_000_000_000L;
  final LeaseGrace grace = new LeaseGrace(Duration.ofSeconds(30), Duration.ofSeconds(15));

  @Test
  void nothingIsJudgedBeforeTheServiceIsReadyNorWithinTheGracePeriod() {
    assertThat(grace.mayJudge(T0, 0)).isFalse();
    grace.ready(T0, 0);
    assertThat(grace.judgeFrom()).isEqualTo(T0.plusSeconds(30));
    for (int s = 5; s < 30; s += 5) {
      assertThat(grace.mayJudge(T0.plusSeconds(s), s * S)).as("%d s after ready", s).isFalse();
      grace.passed(s * S);
    }
    assertThat(grace.mayJudge(T0.plusSeconds(30), 30 * S)).isTrue();
  }

  @Test
  void aPauseOfTheSweeperStartsANewGracePeriod() {
    grace.ready(T0, 0);
    assertThat(grace.mayJudge(T0.plusSeconds(35), 35 * S)).as("a gap of 35 s after ready").isFalse();
    assertThat(grace.judgeFrom()).isEqualTo(T0.plusSeconds(65));
    grace.passed(36 * S);
    assertThat(grace.mayJudge(T0.plusSeconds(50), 50 * S)).as("a normal gap, still in the new grace").isFalse();
    grace.passed(50 * S);
    assertThat(grace.mayJudge(T0.plusSeconds(64), 64 * S)).as("a gap of 14 s is no pause").isFalse();
    grace.passed(64 * S);
    assertThat(grace.mayJudge(T0.plusSeconds(66), 66 * S)).isTrue();
  }

  @Test
  void failedPassesDoNotCountAsPassesSoADatabaseOutageIsAPause() {
    grace.ready(T0, 0);
    assertThat(grace.mayJudge(T0.plusSeconds(40), 10 * S)).isTrue(); // the service clock jumped, the process did not pause
    grace.passed(10 * S);
    for (int s = 15; s <= 25; s += 5) {
      assertThat(grace.mayJudge(T0.plusSeconds(30 + s), s * S)).isTrue(); // each of these passes fails
    }
    assertThat(grace.mayJudge(T0.plusSeconds(60), 30 * S)).as("20 s since the last pass that worked").isFalse();
    assertThat(grace.judgeFrom()).isEqualTo(T0.plusSeconds(90));
  }
}
