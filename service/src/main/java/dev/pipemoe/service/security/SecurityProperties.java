package dev.pipemoe.service.security;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Token security ({@code pipemoe.security.*}).
 *
 * @param adminToken an admin token to create at startup unless it exists already (set it with the
 *     {@code PIPEMOE_ADMIN_TOKEN} environment variable); at least 32 characters; empty for none. A
 *     bootstrap token that an admin revoked stays revoked
 * @param adminOwner the owner name of the bootstrapped admin token
 */
@ConfigurationProperties("pipemoe.security")
public record SecurityProperties(
    @DefaultValue("") String adminToken,
    @DefaultValue("admin") String adminOwner) {

  /** Short secrets can be guessed; generated tokens have 256 bits. */
  public static final int MIN_ADMIN_TOKEN_LENGTH = 32;

  public SecurityProperties {
    if (!adminToken.isEmpty() && adminToken.length() < MIN_ADMIN_TOKEN_LENGTH) {
      throw new IllegalArgumentException("pipemoe.security.admin-token (PIPEMOE_ADMIN_TOKEN) must have at least "
          + MIN_ADMIN_TOKEN_LENGTH + " characters, has " + adminToken.length()
          + "; generate one with: openssl rand -hex 32");
    }
    if (!TokenService.OWNER.matcher(adminOwner).matches()) {
      throw new IllegalArgumentException("pipemoe.security.admin-owner '" + adminOwner + "' is not a valid owner name: "
          + TokenService.OWNER_RULE);
    }
  }
}
