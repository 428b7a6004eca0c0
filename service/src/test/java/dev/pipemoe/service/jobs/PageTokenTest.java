package dev.pipemoe.service.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.web.ErrorResponseException;

class PageTokenTest {

  @Test
  void tokensRoundTrip() {
    Property.forAll(200, r -> new PageToken(Instant.ofEpochSecond(Gen.longIn(r, -1_000_000_000L, 10_000_000_000L),
            Gen.intIn(r, 0, 999_999) * 1000L), new UUID(r.nextLong(), r.nextLong()), r.nextInt()),
        token -> assertThat(PageToken.decode(token.encode())).isEqualTo(token));
  }

  @Test
  void foreignTokensAre400() {
    for (String token : new String[] {"", "!!", "MQ", "Mjp4OnVzZXI6MA", "MTp4OnVzZXI6MA"}) {
      assertThatThrownBy(() -> PageToken.decode(token)).as(token).isInstanceOf(ErrorResponseException.class);
    }
  }

  @Test
  void aTokenOnlyFitsTheFiltersItCameFrom() {
    JobQuery queued = new JobQuery(Set.of(JobState.QUEUED), "exp", "alice", 10, null);
    String token = new PageToken(Instant.EPOCH, UUID.randomUUID(), queued.hash()).encode();

    assertThat(queued.after(token).after()).isNotNull();
    assertThatThrownBy(() -> new JobQuery(Set.of(), "exp", "alice", 10, null).after(token))
        .isInstanceOf(ErrorResponseException.class);
    assertThatThrownBy(() -> new JobQuery(Set.of(JobState.QUEUED), "exp", "bob", 10, null).after(token))
        .isInstanceOf(ErrorResponseException.class);
  }
}
