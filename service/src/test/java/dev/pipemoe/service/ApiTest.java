package dev.pipemoe.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.security.Role;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The base of the API tests: the whole service on a random port over real HTTP, on real PostgreSQL
 * ({@link TestDatabase}). All subclasses share one Spring context. The admin token comes from the
 * bootstrap property, as PIPEMOE_ADMIN_TOKEN would give it; tests create their own users through
 * the admin API, with owner names unique to the run.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "pipemoe.security.admin-token=" + ApiTest.ADMIN_TOKEN)
public abstract class ApiTest {

  public static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789abcdef";

  private static final String RUN = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
  private static final AtomicInteger OWNERS = new AtomicInteger();

  @LocalServerPort
  private int port;

  protected Http http;

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
  }

  @BeforeEach
  void http() {
    http = new Http(port);
  }

  protected int port() {
    return port;
  }

  /** An owner name no other test (or earlier run on a shared database) uses. */
  protected static String uniqueOwner(String prefix) {
    return prefix + "-" + RUN + "-" + OWNERS.incrementAndGet();
  }

  /** A fresh token for {@code owner} with {@code role}, created through the admin API. */
  protected String token(String owner, Role role) {
    return token(http, owner, role.name());
  }

  /** A fresh token for {@code owner} with {@code role}, created through the admin API of {@code http}'s service. */
  public static String token(Http http, String owner, String role) {
    Http.Response created = http.post("/api/v1/admin/tokens").token(ADMIN_TOKEN)
        .json(Map.of("owner", owner, "role", role)).send();
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    return created.json().get("token").stringValue();
  }

  protected Http.Response submit(String token, Object body) {
    return http.post("/api/v1/jobs").token(token).json(body).send();
  }

  /** Submits and asserts 201; returns the job. */
  protected JsonNode submitted(String token, Object body) {
    Http.Response response = submit(token, body);
    assertThat(response.status()).as("%s", response).isEqualTo(201);
    return response.json();
  }

  /** The job's events, oldest first, as GET /api/v1/jobs/{id}/events lists them. */
  protected JsonNode events(String token, String id) {
    return http.get("/api/v1/jobs/" + id + "/events").token(token).send().json().get("events");
  }

  /** The job's latest event. */
  protected JsonNode lastEvent(String token, String id) {
    JsonNode events = events(token, id);
    return events.get(events.size() - 1);
  }

  /** The reasons of the job's events, oldest first. */
  protected List<String> reasons(String token, String id) {
    return events(token, id).valueStream().map(e -> e.get("reason").stringValue()).toList();
  }
}
