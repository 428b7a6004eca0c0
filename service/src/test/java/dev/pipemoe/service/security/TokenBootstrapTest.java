package dev.pipemoe.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.service.ApiTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The worker and metrics tokens a deployment hands out by configuration (PIPEMOE_WORKER_TOKEN,
 * PIPEMOE_METRICS_TOKEN): created once with their role and owner, usable at once, never logged.
 * Each test bootstraps with properties of its own, as a restart with that environment would.
 */
@ExtendWith(OutputCaptureExtension.class)
class TokenBootstrapTest extends ApiTest {

  @Autowired
  TokenService tokens;

  @Autowired
  JdbcTemplate jdbc;

  @Test
  void workerAndMetricsTokensAreCreatedOnceWithTheirRolesAndNeverLogged(CapturedOutput output) {
    String worker = secret("worker");
    String metrics = secret("metrics");
    String fleet = uniqueOwner("fleet");
    TokenBootstrap bootstrap = bootstrap("", worker, fleet, metrics);

    bootstrap.afterSingletonsInstantiated();
    bootstrap.afterSingletonsInstantiated(); // a restart, or a second replica

    assertThat(rows(worker)).isEqualTo(1);
    assertThat(rows(metrics)).isEqualTo(1);
    ApiToken w = tokens.find(worker).orElseThrow();
    assertThat(w.role()).isEqualTo(Role.WORKER);
    assertThat(w.owner()).isEqualTo(fleet);
    assertThat(w.description()).isEqualTo("bootstrapped from PIPEMOE_WORKER_TOKEN");
    assertThat(w.createdBy()).isEqualTo("bootstrap");
    ApiToken m = tokens.find(metrics).orElseThrow();
    assertThat(m.role()).isEqualTo(Role.METRICS);
    assertThat(m.owner()).isEqualTo("prometheus");

    // the worker token may list its owner's workers, not jobs; the metrics token only scrapes
    assertThat(http.get("/api/v1/workers").token(worker).send().status()).isEqualTo(200);
    assertThat(http.get("/api/v1/jobs").token(worker).send().status()).isEqualTo(403);
    assertThat(http.get("/actuator/prometheus").token(metrics).send().status()).isEqualTo(200);
    assertThat(http.get("/api/v1/jobs").token(metrics).send().status()).isEqualTo(403);
    assertThat(http.get("/api/v1/workers").token(metrics).send().status()).isEqualTo(403);

    assertThat(output.getAll())
        .contains("created the WORKER token from PIPEMOE_WORKER_TOKEN for owner '" + fleet + "'")
        .contains("created the METRICS token from PIPEMOE_METRICS_TOKEN for owner 'prometheus'")
        .contains("the WORKER token from PIPEMOE_WORKER_TOKEN exists already")
        .doesNotContain(worker).doesNotContain(metrics);
  }

  @Test
  void aSecretAlreadyHeldByAnotherRoleKeepsItsRoleAndSaysSo(CapturedOutput output) {
    String admin = secret("admin");
    assertThat(tokens.bootstrap(admin, Role.ADMIN, "admin", "test")).isTrue();

    bootstrap("", admin, "workers", "").afterSingletonsInstantiated();

    assertThat(tokens.find(admin).orElseThrow().role()).isEqualTo(Role.ADMIN);
    assertThat(rows(admin)).isEqualTo(1);
    assertThat(output.getAll()).contains("the token in PIPEMOE_WORKER_TOKEN exists already with role ADMIN")
        .doesNotContain(admin);
  }

  @Test
  void aRevokedWorkerTokenStaysRevokedAndSaysSo(CapturedOutput output) {
    String worker = secret("revoked");
    TokenBootstrap bootstrap = bootstrap("", worker, "workers", "");
    bootstrap.afterSingletonsInstantiated();
    String id = tokens.find(worker).orElseThrow().id().toString();
    http.post("/api/v1/admin/tokens/" + id + "/revoke").token(ADMIN_TOKEN).send();

    bootstrap.afterSingletonsInstantiated();

    assertThat(tokens.find(worker).orElseThrow().revoked()).isTrue();
    assertThat(http.get("/api/v1/workers").token(worker).send().status()).isEqualTo(401);
    assertThat(output.getAll()).contains("the WORKER token from PIPEMOE_WORKER_TOKEN was revoked by 'admin'");
  }

  @Test
  void shortTokensAndOneSecretForTwoRolesAreRefusedAtStartup() {
    String shared = secret("shared");
    assertThatThrownBy(() -> new SecurityProperties("", "admin", "short", "workers", "", "prometheus"))
        .hasMessageContaining("worker-token (PIPEMOE_WORKER_TOKEN) must have at least 32 characters");
    assertThatThrownBy(() -> new SecurityProperties("", "admin", "", "workers", "short", "prometheus"))
        .hasMessageContaining("metrics-token (PIPEMOE_METRICS_TOKEN) must have at least 32 characters");
    assertThatThrownBy(() -> new SecurityProperties(shared, "admin", "", "workers", shared, "prometheus"))
        .hasMessageContaining("must differ");
    assertThatThrownBy(() -> new SecurityProperties("", "admin", "", "has space", "", "prometheus"))
        .hasMessageContaining("worker-owner 'has space' is not a valid owner name");
  }

  private TokenBootstrap bootstrap(String admin, String worker, String workerOwner, String metrics) {
    return new TokenBootstrap(tokens, new SecurityProperties(admin, "admin", worker, workerOwner, metrics,
        "prometheus"));
  }

  private int rows(String secret) {
    Integer n = jdbc.queryForObject("select count(*) from api_tokens where token_hash = ?", Integer.class,
        (Object) TokenService.hash(secret));
    return n == null ? 0 : n;
  }

  /** A secret no other test or earlier run on a shared database uses. */
  private static String secret(String kind) {
    return "bootstrap-" + kind + "-" + uniqueOwner("s") + "-0123456789abcdef0123456789";
  }
}
