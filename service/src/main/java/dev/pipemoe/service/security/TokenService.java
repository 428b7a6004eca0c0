package dev.pipemoe.service.security;

import dev.pipemoe.service.system.Ids;
import dev.pipemoe.service.system.Problems;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Issues, finds and revokes bearer tokens. A token is {@code pmt_} followed by 256 random bits in
 * base64url; the prefix lets secret scanners recognise leaked tokens. Only its SHA-256 is stored.
 */
@Service
public class TokenService {

  static final String PREFIX = "pmt_";
  static final String OWNER_RULE = "1-100 characters of letters, digits, '.', '_', '@' or '-', starting with a letter or digit";
  static final Pattern OWNER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,99}");

  private static final SecureRandom RANDOM = new SecureRandom();

  private final ApiTokenRepository tokens;
  private final InstantSource clock;

  TokenService(ApiTokenRepository tokens, InstantSource clock) {
    this.tokens = tokens;
    this.clock = clock;
  }

  /** A new token and its secret, which exists nowhere else after this call returns. */
  public record Issued(ApiToken token, String secret) {}

  @Transactional
  public Issued create(String owner, Role role, String description, Caller createdBy) {
    byte[] random = new byte[32];
    RANDOM.nextBytes(random);
    String secret = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    ApiToken token = new ApiToken(Ids.newId(clock.instant()), owner, role, hash(secret),
        secret.substring(0, PREFIX.length() + 6), description, clock.instant(), createdBy.owner());
    return new Issued(tokens.save(token), secret);
  }

  /** The token with this secret, revoked or not; the caller decides what a revoked one means. */
  @Transactional(readOnly = true)
  public Optional<ApiToken> find(String secret) {
    return tokens.findByTokenHash(hash(secret));
  }

  @Transactional(readOnly = true)
  public List<ApiToken> list() {
    return tokens.findAllByOrderByCreatedAtAscIdAsc();
  }

  @Transactional(readOnly = true)
  public ApiToken get(UUID id) {
    return tokens.findById(id).orElseThrow(() -> Problems.notFound("no token " + id));
  }

  /** Idempotent: revoking a revoked token changes nothing. Takes effect on the next request. */
  @Transactional
  public ApiToken revoke(UUID id, Caller by) {
    ApiToken token = get(id);
    token.revoke(clock.instant(), by.owner());
    return token;
  }

  /**
   * Creates a configured token ({@link TokenBootstrap}) unless a token with that secret exists
   * (revoked or not, whatever its role). Returns whether it created one. Concurrent replicas may
   * both try; the unique hash decides and the loser's insert fails, which {@link TokenBootstrap}
   * treats as "exists".
   */
  @Transactional
  public boolean bootstrap(String secret, Role role, String owner, String description) {
    byte[] hash = hash(secret);
    if (tokens.findByTokenHash(hash).isPresent()) {
      return false;
    }
    String hint = secret.substring(0, 4);
    tokens.saveAndFlush(new ApiToken(Ids.newId(clock.instant()), owner, role, hash, hint, description,
        clock.instant(), "bootstrap"));
    return true;
  }

  @Transactional(readOnly = true)
  public boolean anyActiveAdmin() {
    return tokens.existsByRoleAndRevokedAtIsNull(Role.ADMIN);
  }

  static byte[] hash(String secret) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }
}
