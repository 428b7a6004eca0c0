package dev.pipemoe.service.metrics;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Metric ingest, reading, the live stream and the Prometheus gauges ({@code pipemoe.metrics.*}).
 *
 * @param maxBatchRecords the most records one metric batch may carry (larger batches are 400;
 *     the worker splits them)
 * @param defaultPageSize steps per page of GET .../metrics when pageSize is not given
 * @param maxPageSize the most steps per page; a larger pageSize is served this many
 * @param maxRowsPerPage in the per-rank view, the most rows per page: a page then holds fewer
 *     steps when a job has many ranks (at least one step)
 * @param streamPollInterval how often a live stream looks for new events and steps
 * @param streamKeepAlive the longest a live stream stays silent: then it sends a comment, which
 *     keeps proxies from closing it and tells us whether the client is still there
 * @param streamTimeout how long one stream response lasts; the client reconnects with
 *     Last-Event-ID and continues where it was
 * @param gaugeRefreshInterval how often the gauges (jobs, workers, running jobs' FLOP/s and step
 *     time) are read from the database
 * @param maxJobSeries the most running jobs that get their own FLOP/s and step-time series (the
 *     most recently started); the rest are counted in pipemoe_job_series_omitted
 */
@ConfigurationProperties("pipemoe.metrics")
public record MetricsProperties(
    @DefaultValue("10000") int maxBatchRecords,
    @DefaultValue("100") int defaultPageSize,
    @DefaultValue("1000") int maxPageSize,
    @DefaultValue("10000") int maxRowsPerPage,
    @DefaultValue("500ms") Duration streamPollInterval,
    @DefaultValue("15s") Duration streamKeepAlive,
    @DefaultValue("30m") Duration streamTimeout,
    @DefaultValue("10s") Duration gaugeRefreshInterval,
    @DefaultValue("50") int maxJobSeries) {

  public MetricsProperties {
    if (maxBatchRecords < 1 || defaultPageSize < 1 || maxPageSize < defaultPageSize || maxRowsPerPage < 1
        || maxJobSeries < 0) {
      throw new IllegalArgumentException("pipemoe.metrics needs max-batch-records >= 1, 1 <= default-page-size <="
          + " max-page-size, max-rows-per-page >= 1 and max-job-series >= 0; were " + maxBatchRecords + ", "
          + defaultPageSize + ", " + maxPageSize + ", " + maxRowsPerPage + ", " + maxJobSeries);
    }
    for (Duration d : new Duration[] {streamPollInterval, streamKeepAlive, streamTimeout, gaugeRefreshInterval}) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("pipemoe.metrics durations must be > 0, were stream-poll-interval "
            + streamPollInterval + ", stream-keep-alive " + streamKeepAlive + ", stream-timeout " + streamTimeout
            + ", gauge-refresh-interval " + gaugeRefreshInterval);
      }
    }
  }
}
