package dev.pipemoe.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import tools.jackson.databind.JsonNode;

/** Token administration: secrets shown once and stored hashed, revocation, bootstrap. */
class TokensApiTest extends ApiTest {

  @Autowired
  JdbcTemplate jdbc;

  @Autowired
  TokenService tokens;

  @Autowired
  TokenBootstrap bootstrap;

  @Test
  void aCreatedTokenIsShownOnceAndStoredOnlyAsItsHash() throws Exception {
    String owner = uniqueOwner("carol");
    Http.Response created = http.post("/api/v1/admin/tokens").token(ADMIN_TOKEN)
        .json(Map.of("owner", owner, "role", "USER", "description", "carol's laptop")).send();

    assertThat(created.status()).isEqualTo(201);
    JsonNode body = created.json();
    String secret = body.get("token").stringValue();
    assertThat(secret).matches("pmt_[A-Za-z0-9_-]{43}");
    assertThat(created.header("Location")).isEqualTo("/api/v1/admin/tokens/" + body.get("id").stringValue());
    assertThat(body.get("hint").stringValue()).isEqualTo(secret.substring(0, 10));
    assertThat(body.get("createdBy").stringValue()).isEqualTo("admin");

    JsonNode listed = find(http.get("/api/v1/admin/tokens").token(ADMIN_TOKEN).send().json(), body.get("id").stringValue());
    assertThat(listed.has("token")).isFalse();
    assertThat(listed.get("owner").stringValue()).isEqualTo(owner);
    assertThat(listed.get("description").stringValue()).isEqualTo("carol's laptop");
    JsonNode single = http.get("/api/v1/admin/tokens/" + body.get("id").stringValue()).token(ADMIN_TOKEN).send().json();
    assertThat(single.has("token")).isFalse();

    byte[] stored = jdbc.queryForObject("select token_hash from api_tokens where id = ?::uuid", byte[].class,
        body.get("id").stringValue());
    assertThat(stored).isEqualTo(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    String row = jdbc.queryForObject("select row_to_json(t)::text from api_tokens t where id = ?::uuid", String.class,
        body.get("id").stringValue());
    assertThat(row).doesNotContain(secret.substring(10)).doesNotContain(HexFormat.of().formatHex(secret.getBytes()));

    assertThat(http.get("/api/v1/jobs").token(secret).send().status()).isEqualTo(200);
  }

  @Test
  void aRevokedTokenGets401OnItsNextRequestAndRevokingAgainChangesNothing() {
    String secret = token(uniqueOwner("dave"), Role.USER);
    String id = idOf(secret);
    assertThat(http.get("/api/v1/jobs").token(secret).send().status()).isEqualTo(200);

    JsonNode revoked = http.post("/api/v1/admin/tokens/" + id + "/revoke").token(ADMIN_TOKEN).send().json();
    Http.Response again = http.post("/api/v1/admin/tokens/" + id + "/revoke").token(ADMIN_TOKEN).send();

    assertThat(revoked.get("revokedAt")).isNotNull();
    assertThat(revoked.get("revokedBy").stringValue()).isEqualTo("admin");
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json().get("revokedAt")).isEqualTo(revoked.get("revokedAt"));
    Http.Response rejected = http.get("/api/v1/jobs").token(secret).send();
    assertThat(rejected.status()).isEqualTo(401);
    assertThat(rejected.contentType()).isEqualTo("application/problem+json");
    assertThat(rejected.json().get("detail").stringValue()).contains("revoked");
    assertThat(rejected.header("WWW-Authenticate")).isEqualTo("Bearer error=\"invalid_token\"");
    // a bad token is refused even where no token is needed, so the client learns it is bad
    assertThat(http.get("/actuator/health").token(secret).send().status()).isEqualTo(401);
  }

  @Test
  void malformedAndUnknownTokensAre401() {
    for (String header : List.of("Bearer pmt_unknown", "Bearer ", "Basic YWRtaW46YWRtaW4=", "pmt_no_scheme")) {
      Http.Response response = http.get("/api/v1/jobs").header("Authorization", header).send();
      assertThat(response.status()).as(header).isEqualTo(401);
      assertThat(response.contentType()).isEqualTo("application/problem+json");
    }
  }

  @Test
  void invalidCreateBodiesAre400WithPointers() {
    Http.Response badOwner = http.post("/api/v1/admin/tokens").token(ADMIN_TOKEN)
        .json(Map.of("owner", "has space", "role", "USER")).send();
    assertThat(badOwner.status()).isEqualTo(400);
    assertThat(badOwner.json().get("errors").get(0).get("pointer").stringValue()).isEqualTo("/owner");

    Http.Response badRole = http.post("/api/v1/admin/tokens").token(ADMIN_TOKEN)
        .json(Map.of("owner", "eve", "role", "ROOT")).send();
    assertThat(badRole.status()).isEqualTo(400);
    assertThat(badRole.json().get("errors").get(0).get("pointer").stringValue()).isEqualTo("/role");

    Http.Response unknownField = http.post("/api/v1/admin/tokens").token(ADMIN_TOKEN)
        .json(Map.of("owner", "eve", "role", "USER", "expires", "never")).send();
    assertThat(unknownField.status()).isEqualTo(400);
    assertThat(unknownField.json().get("errors").get(0).get("pointer").stringValue()).isEqualTo("/expires");
    assertThat(unknownField.json().get("errors").get(0).get("rule").stringValue()).isEqualTo("BODY-UNKNOWN");

    Http.Response notJson = http.post("/api/v1/admin/tokens").token(ADMIN_TOKEN).json("{owner").send();
    assertThat(notJson.status()).isEqualTo(400);
    assertThat(notJson.contentType()).isEqualTo("application/problem+json");

    assertThat(http.get("/api/v1/admin/tokens/not-a-uuid").token(ADMIN_TOKEN).send().status()).isEqualTo(404);
  }

  @Test
  void theBootstrapTokenIsCreatedOnceWhateverTheRestarts() {
    bootstrap.afterSingletonsInstantiated(); // as a restart (or a second replica) would
    bootstrap.afterSingletonsInstantiated();

    Integer admins = jdbc.queryForObject("select count(*) from api_tokens where token_hash = ?", Integer.class,
        (Object) TokenService.hash(ADMIN_TOKEN));
    assertThat(admins).isEqualTo(1);
    assertThat(tokens.bootstrap(ADMIN_TOKEN, Role.ADMIN, "admin", "test")).isFalse();
    assertThat(tokens.find(ADMIN_TOKEN).orElseThrow().role()).isEqualTo(Role.ADMIN);
  }

  @Test
  void aRevokedBootstrapTokenStaysRevoked() {
    String secret = "bootstrap-secret-" + uniqueOwner("x") + "-0123456789abcdef";
    assertThat(tokens.bootstrap(secret, Role.ADMIN, "admin", "test")).isTrue();
    String id = tokens.find(secret).orElseThrow().id().toString();
    http.post("/api/v1/admin/tokens/" + id + "/revoke").token(ADMIN_TOKEN).send();

    assertThat(tokens.bootstrap(secret, Role.ADMIN, "admin", "test")).isFalse();
    assertThat(http.get("/api/v1/jobs").token(secret).send().status()).isEqualTo(401);
  }

  @Test
  void aShortBootstrapTokenIsRefusedAtStartup() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SecurityProperties("short", "admin", "", "workers", "", "prometheus"))
        .hasMessageContaining("at least 32 characters");
  }

  private String idOf(String secret) {
    return tokens.find(secret).orElseThrow().id().toString();
  }

  private static JsonNode find(JsonNode list, String id) {
    for (JsonNode t : list.get("tokens")) {
      if (t.get("id").stringValue().equals(id)) {
        return t;
      }
    }
    throw new AssertionError("no token " + id);
  }
}
