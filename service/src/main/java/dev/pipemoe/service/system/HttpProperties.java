package dev.pipemoe.service.system;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Request body limits ({@code pipemoe.http.*}), enforced by {@link BodyLimitFilter} before any body
 * is parsed; POST /api/v1/jobs has its own, {@code pipemoe.jobs.max-body-size}.
 *
 * @param maxBodySize the largest body of any request that has no limit of its own: worker
 *     registrations, heartbeats, attempt reports, token requests
 * @param maxMetricsBatchSize the largest POST /api/v1/workers/{id}/metrics body. A batch holds at
 *     most {@code pipemoe.metrics.max-batch-records} (10,000) records; one record as the worker
 *     writes it is at most about 860 bytes (22 field names, 18 doubles of up to 24 characters,
 *     three integers), so 10,000 records are at most about 8.6 MB: the default of 16 MB is that
 *     with a margin of almost two (docs/service.md §3.1)
 */
@ConfigurationProperties("pipemoe.http")
public record HttpProperties(
    @DefaultValue("64KB") DataSize maxBodySize,
    @DefaultValue("16MB") DataSize maxMetricsBatchSize) {

  public HttpProperties {
    // bodies without a Content-Length are buffered up to the limit, so it must fit an array
    check("max-body-size", maxBodySize);
    check("max-metrics-batch-size", maxMetricsBatchSize);
  }

  private static void check(String name, DataSize size) {
    if (size.toBytes() < 1 || size.toBytes() > Integer.MAX_VALUE - 1) {
      throw new IllegalArgumentException("pipemoe.http." + name + " must be from 1 B to 2 GB, was " + size);
    }
  }
}
