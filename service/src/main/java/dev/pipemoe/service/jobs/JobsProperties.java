package dev.pipemoe.service.jobs;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The jobs API ({@code pipemoe.jobs.*}).
 *
 * @param maxBodySize the largest POST /api/v1/jobs body; larger ones get 413 before they are parsed
 * @param defaultPageSize jobs per page when a list request gives no pageSize
 * @param maxPageSize the largest page; a larger pageSize is served this many (AIP-158 style)
 * @param maxAttempts attempts a new job gets: the scheduler retries a lost attempt until this many
 *     have started, then fails the job
 * @param cancelRetries how often a cancel is retried when the job changed under it (a worker's
 *     lease or heartbeat bumped its version) before the client gets 409
 */
@ConfigurationProperties("pipemoe.jobs")
public record JobsProperties(
    @DefaultValue("64KB") DataSize maxBodySize,
    @DefaultValue("20") int defaultPageSize,
    @DefaultValue("100") int maxPageSize,
    @DefaultValue("3") int maxAttempts,
    @DefaultValue("3") int cancelRetries) {

  public JobsProperties {
    if (maxBodySize.toBytes() < 1 || maxBodySize.toBytes() > Integer.MAX_VALUE - 1) {
      throw new IllegalArgumentException("pipemoe.jobs.max-body-size must be from 1 B to 2 GB, was " + maxBodySize);
    }
    if (defaultPageSize < 1 || maxPageSize < defaultPageSize) {
      throw new IllegalArgumentException("pipemoe.jobs page sizes need 1 <= default-page-size <= max-page-size, were "
          + defaultPageSize + " and " + maxPageSize);
    }
    if (maxAttempts < 1 || cancelRetries < 1) {
      throw new IllegalArgumentException("pipemoe.jobs.max-attempts and cancel-retries must be >= 1, were "
          + maxAttempts + " and " + cancelRetries);
    }
  }
}
