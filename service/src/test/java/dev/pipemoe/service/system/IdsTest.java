package dev.pipemoe.service.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class IdsTest {

  @Test
  void idsAreVersion7WithTheirMillisecondFirst() {
    Instant now = Instant.parse("2026-11-27T10:15:30.123Z");
    UUID id = Ids.newId(now);
    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(now.toEpochMilli());
  }

  @Test
  void laterIdsSortAfterEarlierOnes() {
    UUID earlier = Ids.newId(Instant.parse("2026-11-27T10:15:30.123Z"));
    UUID later = Ids.newId(Instant.parse("2026-11-27T10:15:30.124Z"));
    assertThat(Long.compareUnsigned(later.getMostSignificantBits(), earlier.getMostSignificantBits())).isPositive();
  }
}
