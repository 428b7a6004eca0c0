package dev.pipemoe.service.system;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.UUID;

/**
 * Time-ordered UUIDs (RFC 9562 version 7): 48 bits of Unix milliseconds, then random bits. New rows
 * land at the end of the primary-key index instead of at random pages, and ids sort roughly by
 * creation, which keeps listing queries and log greps pleasant.
 */
public final class Ids {

  private static final SecureRandom RANDOM = new SecureRandom();

  private Ids() {}

  public static UUID newId(Instant now) {
    long millis = now.toEpochMilli();
    long msb = (millis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0fffL);
    long lsb = (RANDOM.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }

  /** An id from a path: one that is no UUID names nothing, so it is a 404 like an unknown one. */
  public static UUID fromPath(String id, String what) {
    try {
      return UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      throw Problems.notFound("no " + what + " " + id);
    }
  }
}
