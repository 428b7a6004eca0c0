package dev.pipemoe.service.security;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.stereotype.Component;

/**
 * Creates the tokens a deployment hands out by configuration, at startup, once: the admin token
 * ({@code PIPEMOE_ADMIN_TOKEN}), the workers' token ({@code PIPEMOE_WORKER_TOKEN}) and Prometheus'
 * ({@code PIPEMOE_METRICS_TOKEN}). A Helm chart or a compose file cannot call the admin API, so the
 * secrets its workers and its Prometheus use must be known to the service from the start.
 * Restarts and replicas find each token by its hash and do nothing. Runs after the schema is
 * migrated and before the web server accepts requests, so the tokens work from the first request
 * on. Secrets are never logged; only the variable they came from.
 */
@Component
class TokenBootstrap implements SmartInitializingSingleton {

  private static final Logger log = LoggerFactory.getLogger(TokenBootstrap.class);

  private final TokenService tokens;
  private final SecurityProperties properties;

  TokenBootstrap(TokenService tokens, SecurityProperties properties) {
    this.tokens = tokens;
    this.properties = properties;
  }

  /** A token the configuration asks for, and the environment variable that usually gives it. */
  record Configured(Role role, String variable, String secret, String owner) {}

  @Override
  public void afterSingletonsInstantiated() {
    for (Configured c : configured()) {
      bootstrap(c);
    }
    if (properties.adminToken().isEmpty() && !tokens.anyActiveAdmin()) {
      log.warn("no active admin token and PIPEMOE_ADMIN_TOKEN is not set: nobody can create tokens;"
          + " restart with PIPEMOE_ADMIN_TOKEN=$(openssl rand -hex 32)");
    }
  }

  List<Configured> configured() {
    List<Configured> all = new ArrayList<>();
    add(all, Role.ADMIN, "PIPEMOE_ADMIN_TOKEN", properties.adminToken(), properties.adminOwner());
    add(all, Role.WORKER, "PIPEMOE_WORKER_TOKEN", properties.workerToken(), properties.workerOwner());
    add(all, Role.METRICS, "PIPEMOE_METRICS_TOKEN", properties.metricsToken(), properties.metricsOwner());
    return all;
  }

  private static void add(List<Configured> all, Role role, String variable, String secret, String owner) {
    if (!secret.isEmpty()) {
      all.add(new Configured(role, variable, secret, owner));
    }
  }

  private void bootstrap(Configured c) {
    try {
      if (tokens.bootstrap(c.secret(), c.role(), c.owner(), "bootstrapped from " + c.variable())) {
        log.info("created the {} token from {} for owner '{}'", c.role(), c.variable(), c.owner());
        return;
      }
    } catch (DataIntegrityViolationException e) {
      // another replica inserted the same hash between our lookup and our insert
      log.info("the {} token from {} was created concurrently by another instance", c.role(), c.variable());
      return;
    }
    ApiToken existing = tokens.find(c.secret()).orElseThrow();
    if (existing.role() != c.role()) {
      log.warn("the token in {} exists already with role {} (owner '{}'), not {}: it keeps its role; give {} a"
          + " secret of its own", c.variable(), existing.role(), existing.owner(), c.role(), c.variable());
    } else if (existing.revoked()) {
      log.warn("the {} token from {} was revoked by '{}' and stays revoked: requests with it get 401; set a new"
          + " value to get a new token", c.role(), c.variable(), existing.revokedBy());
    } else {
      log.info("the {} token from {} exists already", c.role(), c.variable());
    }
  }
}
