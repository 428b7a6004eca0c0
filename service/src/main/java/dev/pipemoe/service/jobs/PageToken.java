package dev.pipemoe.service.jobs;

import dev.pipemoe.service.system.Problems;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;

/**
 * Where the next page starts: the (createdAt, id) of the last job served, plus a fingerprint of the
 * query's filters so a token is not reused with other filters. Opaque to clients (base64url); it
 * carries nothing secret, and the owner filter is applied on every page whatever a token says.
 * Jobs created after the first page sort before it and so never shift later pages.
 */
record PageToken(Instant createdAt, UUID id, int queryHash) {

  private static final String VERSION = "1";

  String encode() {
    long micros = createdAt.getEpochSecond() * 1_000_000L + createdAt.getNano() / 1_000;
    String plain = VERSION + ":" + micros + ":" + id + ":" + Integer.toHexString(queryHash);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
  }

  static PageToken decode(String token) {
    try {
      String[] parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split(":");
      if (parts.length != 4 || !parts[0].equals(VERSION)) {
        throw new IllegalArgumentException("unknown layout");
      }
      long micros = Long.parseLong(parts[1]);
      Instant createdAt = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
      return new PageToken(createdAt, UUID.fromString(parts[2]), Integer.parseUnsignedInt(parts[3], 16));
    } catch (IllegalArgumentException | ArithmeticException | java.time.DateTimeException e) {
      throw Problems.invalidParameter("pageToken", "pageToken is not a token this API issued; start without one");
    }
  }
}
