package dev.pipemoe.service.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class JobStateTest {

  @Test
  void finishedStatesGoNowhere() {
    for (JobState state : EnumSet.of(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)) {
      assertThat(state.terminal()).isTrue();
      assertThat(state.next()).isEmpty();
    }
  }

  @Test
  void cancelPathsAreTheOnesTheApiTakes() {
    assertThat(JobState.QUEUED.canBecome(JobState.CANCELLED)).isTrue();
    assertThat(JobState.RUNNING.canBecome(JobState.CANCELLING)).isTrue();
    assertThat(JobState.RUNNING.canBecome(JobState.CANCELLED)).isFalse(); // the worker confirms first
    assertThat(JobState.CANCELLING.canBecome(JobState.CANCELLED)).isTrue();
    assertThat(JobState.CANCELLING.canBecome(JobState.RUNNING)).isFalse();
  }

  @Test
  void aLostAttemptGoesBackToTheQueue() {
    assertThat(JobState.RUNNING.canBecome(JobState.QUEUED)).isTrue();
    assertThat(JobState.QUEUED.canBecome(JobState.SUCCEEDED)).isFalse();
  }

  @Test
  void everyStateIsReachableFromQueued() {
    EnumSet<JobState> reached = EnumSet.of(JobState.QUEUED);
    boolean grew = true;
    while (grew) {
      EnumSet<JobState> next = EnumSet.copyOf(reached);
      reached.forEach(s -> next.addAll(s.next()));
      grew = next.size() > reached.size();
      reached = next;
    }
    assertThat(reached).isEqualTo(EnumSet.allOf(JobState.class));
  }
}
