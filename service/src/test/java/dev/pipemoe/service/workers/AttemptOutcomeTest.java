package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import dev.pipemoe.service.jobs.EventReason;
import dev.pipemoe.service.jobs.JobState;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The rule that turns an ended attempt into a job move, checked alone and as properties over every input. */
class AttemptOutcomeTest {

  record Input(JobState job, int attempt, int max, AttemptState ended, String cause) {}

  static Input input(SplittableRandom r) {
    int max = Gen.intIn(r, 1, 5);
    return new Input(Gen.oneOf(r, JobState.RUNNING, JobState.CANCELLING), Gen.intIn(r, 1, max), max,
        Gen.oneOf(r, AttemptState.SUCCEEDED, AttemptState.FAILED, AttemptState.CANCELLED, AttemptState.LOST),
        Gen.oneOf(r, "DEVICE_ERROR", "SHUTDOWN", "ENGINE_ERROR", "INVALID_SPEC", "SOMETHING_NEW", "LEASE_EXPIRED",
            "WORKER_RESTARTED", "CANCEL_REQUESTED"));
  }

  private static AttemptOutcome.Move decide(Input i) {
    return AttemptOutcome.decide(i.job(), i.attempt(), i.max(), i.ended(), i.cause(), "detail", "node-7");
  }

  @Test
  void everyMoveIsOneTheJobStateMachineAllows() {
    Property.forAll(2000, AttemptOutcomeTest::input, i ->
        assertThat(i.job().canBecome(decide(i).to())).as("%s -> %s", i.job(), decide(i).to()).isTrue());
  }

  @Test
  void onlyARunningJobWithAttemptsLeftIsQueuedAgain() {
    Property.forAll(2000, AttemptOutcomeTest::input, i -> {
      boolean queued = decide(i).to() == JobState.QUEUED;
      boolean retryable = i.ended() == AttemptState.LOST || i.ended() == AttemptState.CANCELLED
          || (i.ended() == AttemptState.FAILED && AttemptOutcome.RETRYABLE_FAILURES.contains(i.cause()));
      assertThat(queued).isEqualTo(i.job() == JobState.RUNNING && i.attempt() < i.max() && retryable);
    });
  }

  @Test
  void successIsSuccessWhateverTheJobWasDoing() {
    Property.forAll(500, AttemptOutcomeTest::input, i -> {
      AttemptOutcome.Move move = decide(i);
      assertThat(move.to() == JobState.SUCCEEDED).isEqualTo(i.ended() == AttemptState.SUCCEEDED);
      assertThat(move.message()).contains("attempt " + i.attempt() + " of " + i.max()).contains("node-7");
    });
  }

  @Test
  void theReasonsSayWhatHappened() {
    assertThat(AttemptOutcome.decide(JobState.RUNNING, 1, 3, AttemptState.LOST, "LEASE_EXPIRED", null, "n").reason())
        .isEqualTo(EventReason.ATTEMPT_LOST);
    assertThat(AttemptOutcome.decide(JobState.RUNNING, 1, 3, AttemptState.FAILED, "SHUTDOWN", null, "n").reason())
        .isEqualTo(EventReason.RETRY);
    assertThat(AttemptOutcome.decide(JobState.RUNNING, 3, 3, AttemptState.FAILED, "DEVICE_ERROR", null, "n").reason())
        .isEqualTo(EventReason.ATTEMPTS_EXHAUSTED);
    assertThat(AttemptOutcome.decide(JobState.RUNNING, 1, 3, AttemptState.FAILED, "INVALID_SPEC", null, "n").reason())
        .isEqualTo(EventReason.FAILED);
    assertThat(AttemptOutcome.decide(JobState.CANCELLING, 1, 3, AttemptState.FAILED, "ENGINE_ERROR", null, "n").to())
        .isEqualTo(JobState.FAILED);
    assertThat(AttemptOutcome.decide(JobState.CANCELLING, 1, 3, AttemptState.LOST, "LEASE_EXPIRED", null, "n").to())
        .isEqualTo(JobState.CANCELLED);
  }

  @Test
  void aLiveAttemptOrAFinishedJobIsABug() {
    assertThatThrownBy(() -> AttemptOutcome.decide(JobState.QUEUED, 1, 3, AttemptState.LOST, null, null, "n"))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> AttemptOutcome.decide(JobState.RUNNING, 1, 3, AttemptState.RUNNING, null, null, "n"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
