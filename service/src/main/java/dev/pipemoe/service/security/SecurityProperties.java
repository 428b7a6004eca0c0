package dev.pipemoe.service.security;

import java.util.HashSet;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Token security ({@code pipemoe.security.*}). The three tokens are created at startup unless
 * they exist already ({@link TokenBootstrap}); each is at least 32 characters, or empty for none.
 * A bootstrapped token that an admin revoked stays revoked.
 *
 * @param adminToken an ADMIN token ({@code PIPEMOE_ADMIN_TOKEN})
 * @param adminOwner the owner name of the bootstrapped admin token
 * @param workerToken a WORKER token the deployment's workers share ({@code PIPEMOE_WORKER_TOKEN})
 * @param workerOwner its owner name: the owner of the workers that register with it
 * @param metricsToken a METRICS token for the deployment's Prometheus ({@code PIPEMOE_METRICS_TOKEN})
 * @param metricsOwner its owner name
 */
@ConfigurationProperties("pipemoe.security")
public record SecurityProperties(
    @DefaultValue("") String adminToken,
    @DefaultValue("admin") String adminOwner,
    @DefaultValue("") String workerToken,
    @DefaultValue("workers") String workerOwner,
    @DefaultValue("") String metricsToken,
    @DefaultValue("prometheus") String metricsOwner) {

  /** Short secrets can be guessed; generated tokens have 256 bits. */
  public static final int MIN_TOKEN_LENGTH = 32;

  public SecurityProperties {
    checkToken("admin-token", "PIPEMOE_ADMIN_TOKEN", adminToken);
    checkToken("worker-token", "PIPEMOE_WORKER_TOKEN", workerToken);
    checkToken("metrics-token", "PIPEMOE_METRICS_TOKEN", metricsToken);
    checkOwner("admin-owner", adminOwner);
    checkOwner("worker-owner", workerOwner);
    checkOwner("metrics-owner", metricsOwner);
    // one secret is one token with one role: the second role would be silently ignored
    Set<String> seen = new HashSet<>();
    for (String token : new String[] {adminToken, workerToken, metricsToken}) {
      if (!token.isEmpty() && !seen.add(token)) {
        throw new IllegalArgumentException("pipemoe.security.admin-token, worker-token and metrics-token"
            + " (PIPEMOE_ADMIN_TOKEN, PIPEMOE_WORKER_TOKEN, PIPEMOE_METRICS_TOKEN) must differ: one secret is one"
            + " token with one role");
      }
    }
  }

  private static void checkToken(String property, String variable, String token) {
    if (!token.isEmpty() && token.length() < MIN_TOKEN_LENGTH) {
      throw new IllegalArgumentException("pipemoe.security." + property + " (" + variable + ") must have at least "
          + MIN_TOKEN_LENGTH + " characters, has " + token.length() + "; generate one with: openssl rand -hex 32");
    }
  }

  private static void checkOwner(String property, String owner) {
    if (!TokenService.OWNER.matcher(owner).matches()) {
      throw new IllegalArgumentException("pipemoe.security." + property + " '" + owner
          + "' is not a valid owner name: " + TokenService.OWNER_RULE);
    }
  }
}
