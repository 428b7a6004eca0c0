package dev.pipemoe.service.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.Specs;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The service on the PostgreSQL image a deployment would use (Testcontainers). Skipped where there
 * is no Docker, as on the build machines; the other tests use the embedded server. CI starts a
 * Docker engine where it can, and says in a banner when this test did not run (.ci/run).
 */
@Testcontainers(disabledWithoutDocker = true)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "pipemoe.security.admin-token=" + ApiTest.ADMIN_TOKEN)
class PostgresContainerTest {

  @Container
  static final PostgreSQLContainer POSTGRES = new PostgreSQLContainer("postgres:17-alpine");

  @LocalServerPort
  int port;

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", POSTGRES::getJdbcUrl);
    registry.add("spring.datasource.username", POSTGRES::getUsername);
    registry.add("spring.datasource.password", POSTGRES::getPassword);
  }

  @Test
  void migratesAndStoresJobs() {
    Http http = new Http(port);
    Http.Response created = http.post("/api/v1/jobs").token(ApiTest.ADMIN_TOKEN).json(Specs.valid("in-a-container")).send();
    assertThat(created.status()).isEqualTo(201);
    assertThat(http.get(created.header("Location")).token(ApiTest.ADMIN_TOKEN).send().status()).isEqualTo(200);
  }
}
