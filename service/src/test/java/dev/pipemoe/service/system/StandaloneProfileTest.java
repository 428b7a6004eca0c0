package dev.pipemoe.service.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.PipemoeServiceApplication;
import dev.pipemoe.service.Specs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The standalone profile as a user runs it: the service brings its own PostgreSQL, and a restart
 * on the same data directory finds the jobs of the first run; the database runs durable.
 */
class StandaloneProfileTest {

  @TempDir
  Path home;

  @Test
  void startsWithItsOwnDatabaseAndKeepsJobsAcrossRestarts() {
    Path data = home.resolve("pg");
    String id;
    try (ConfigurableApplicationContext first = start(data)) {
      Http http = new Http(port(first));
      Http.Response created = http.post("/api/v1/jobs").token(ApiTest.ADMIN_TOKEN).json(Specs.valid("survivor")).send();
      assertThat(created.status()).as("%s", created).isEqualTo(201);
      id = created.json().get("id").stringValue();
      JdbcTemplate jdbc = new JdbcTemplate(first.getBean(DataSource.class));
      assertThat(List.of("fsync", "full_page_writes", "synchronous_commit"))
          .as("durable: an acknowledged write survives a crash")
          .allSatisfy(setting -> assertThat(jdbc.queryForObject("show " + setting, String.class)).isEqualTo("on"));
    }
    assertThat(Files.exists(data.resolve("PG_VERSION"))).isTrue();

    try (ConfigurableApplicationContext second = start(data)) {
      Http.Response fetched = new Http(port(second)).get("/api/v1/jobs/" + id).token(ApiTest.ADMIN_TOKEN).send();
      assertThat(fetched.status()).as("%s", fetched).isEqualTo(200);
      assertThat(fetched.json().get("name").stringValue()).isEqualTo("survivor");
    }
  }

  private static ConfigurableApplicationContext start(Path data) {
    return new SpringApplicationBuilder(PipemoeServiceApplication.class)
        .profiles("standalone")
        .run("--server.port=0", "--pipemoe.standalone.data-dir=" + data,
            "--pipemoe.security.admin-token=" + ApiTest.ADMIN_TOKEN);
  }

  private static int port(ConfigurableApplicationContext context) {
    return context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
  }
}
