package dev.pipemoe.service.security;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.stereotype.Component;

/**
 * Creates the admin token named by {@code PIPEMOE_ADMIN_TOKEN} at startup, once: restarts and
 * replicas find it by its hash and do nothing. Runs after the schema is migrated and before the
 * web server accepts requests, so the token works from the first request on.
 */
@Component
class AdminTokenBootstrap implements SmartInitializingSingleton {

  private static final Logger log = LoggerFactory.getLogger(AdminTokenBootstrap.class);

  private final TokenService tokens;
  private final SecurityProperties properties;

  AdminTokenBootstrap(TokenService tokens, SecurityProperties properties) {
    this.tokens = tokens;
    this.properties = properties;
  }

  @Override
  public void afterSingletonsInstantiated() {
    if (properties.adminToken().isEmpty()) {
      if (!tokens.anyActiveAdmin()) {
        log.warn("no active admin token and PIPEMOE_ADMIN_TOKEN is not set: nobody can create tokens;"
            + " restart with PIPEMOE_ADMIN_TOKEN=$(openssl rand -hex 32)");
      }
      return;
    }
    try {
      if (tokens.bootstrapAdmin(properties.adminToken(), properties.adminOwner())) {
        log.info("created the admin token from PIPEMOE_ADMIN_TOKEN for owner '{}'", properties.adminOwner());
      } else {
        log.info("the admin token from PIPEMOE_ADMIN_TOKEN exists already");
      }
    } catch (DataIntegrityViolationException e) {
      // another replica inserted the same hash between our lookup and our insert
      log.info("the admin token from PIPEMOE_ADMIN_TOKEN was created concurrently by another instance");
    }
  }
}
