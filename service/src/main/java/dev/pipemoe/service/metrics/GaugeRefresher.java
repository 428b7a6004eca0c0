package dev.pipemoe.service.metrics;

import dev.pipemoe.service.jobs.JobState;
import dev.pipemoe.service.workers.SchedulerProperties;
import java.time.InstantSource;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.SchedulingConfigurer;
import org.springframework.scheduling.config.ScheduledTaskRegistrar;

/**
 * Reads the gauges' values from the database every {@code pipemoe.metrics.gauge-refresh-interval}
 * (a scrape then costs nothing). A pass that fails is logged and counted, and the gauges keep
 * their last values until the next pass succeeds.
 */
@Configuration(proxyBeanMethods = false)
class GaugeRefresher implements SchedulingConfigurer {

  private static final Logger log = LoggerFactory.getLogger(GaugeRefresher.class);

  private final GaugeQueries queries;
  private final PipemoeMetrics metrics;
  private final MetricsProperties properties;
  private final SchedulerProperties scheduler;
  private final InstantSource clock;

  GaugeRefresher(GaugeQueries queries, PipemoeMetrics metrics, MetricsProperties properties,
      SchedulerProperties scheduler, InstantSource clock) {
    this.queries = queries;
    this.metrics = metrics;
    this.properties = properties;
    this.scheduler = scheduler;
    this.clock = clock;
  }

  @Override
  public void configureTasks(ScheduledTaskRegistrar registrar) {
    registrar.addFixedDelayTask(this::refresh, properties.gaugeRefreshInterval());
  }

  /** One pass; never throws. */
  void refresh() {
    try {
      List<GaugeQueries.JobCount> jobs = queries.activeJobs();
      metrics.updateJobs(jobs);
      metrics.updateWorkers(queries.workers(scheduler.onlineSince(clock.instant())));
      long running = jobs.stream().filter(c -> JobState.valueOf(c.state()).hasLiveAttempt())
          .mapToLong(GaugeQueries.JobCount::jobs).sum();
      metrics.updateRunningJobs(queries.runningJobSteps(properties.maxJobSeries()), running);
      metrics.refreshed(false);
    } catch (RuntimeException e) {
      log.error("gauge refresh failed; the gauges keep their last values", e);
      metrics.refreshed(true);
    }
  }
}
