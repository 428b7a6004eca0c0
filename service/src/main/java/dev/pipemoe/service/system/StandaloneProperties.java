package dev.pipemoe.service.system;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The embedded PostgreSQL of the {@code standalone} profile ({@code pipemoe.standalone.*}).
 *
 * @param dataDir where PostgreSQL keeps its files; kept between runs, so jobs survive a restart.
 *     application-standalone.yaml sets {@code $PIPEMOE_DATA_DIR/pg}, by default {@code ~/.pipemoe/pg}:
 *     independent of the directory the jar starts in
 * @param port TCP port on 127.0.0.1; 0 picks a free one at every start
 * @param startTimeout how long to wait for PostgreSQL to accept connections
 */
@ConfigurationProperties("pipemoe.standalone")
public record StandaloneProperties(
    Path dataDir,
    @DefaultValue("0") int port,
    @DefaultValue("60s") Duration startTimeout) {
}
