package dev.pipemoe.service.system;

import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.jdbc.DataSourceBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;

/**
 * The {@code standalone} profile: PostgreSQL 17 (zonky's binaries) runs inside the service's
 * process tree, so the service starts on a machine with nothing installed. The data directory is
 * kept between runs; every other profile uses an external PostgreSQL ({@code spring.datasource.*}).
 * As root, zonky runs PostgreSQL in a user namespace ({@code unshare -U}), since initdb refuses root.
 * It runs durable, as an external PostgreSQL does by default: fsync, full page writes and
 * synchronous commit on (docs/service.md, "Standalone").
 */
@Configuration(proxyBeanMethods = false)
@Profile("standalone")
class StandaloneDatabaseConfiguration {

  private static final Logger log = LoggerFactory.getLogger(StandaloneDatabaseConfiguration.class);

  @Bean(destroyMethod = "close")
  EmbeddedPostgres embeddedPostgres(StandaloneProperties properties) throws IOException {
    Objects.requireNonNull(properties.dataDir(), "pipemoe.standalone.data-dir");
    Path dataDir = properties.dataDir().toAbsolutePath().normalize();
    Files.createDirectories(dataDir);
    OrphanedPostgres.stopIfAny(dataDir, properties.startTimeout());
    EmbeddedPostgres postgres = EmbeddedPostgres.builder()
        .setDataDirectory(dataDir)
        .setCleanDataDirectory(false)
        .setPort(properties.port())
        .setPGStartupWait(properties.startTimeout())
        // durable: an acknowledged submit or metric batch survives a crash (zonky turns this off for tests)
        .setServerConfig("synchronous_commit", "on")
        .setServerConfig("fsync", "on")
        .setServerConfig("full_page_writes", "on")
        // Spring stops it (after the pool): a second JVM hook could stop it while connections are open
        .setRegisterShutdownHook(false)
        .start();
    log.info("embedded PostgreSQL on 127.0.0.1:{}, data in {}", postgres.getPort(), dataDir);
    return postgres;
  }

  /** Depends on the embedded server, so it closes first and PostgreSQL stops after the pool. */
  @Bean
  HikariDataSource dataSource(EmbeddedPostgres postgres) {
    HikariDataSource dataSource = DataSourceBuilder.create()
        .type(HikariDataSource.class)
        .url(postgres.getJdbcUrl("postgres", "postgres"))
        .username("postgres")
        .build();
    dataSource.setPoolName("pipemoe-standalone");
    return dataSource;
  }
}
