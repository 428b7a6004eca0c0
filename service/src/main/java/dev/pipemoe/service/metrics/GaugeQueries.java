package dev.pipemoe.service.metrics;

import dev.pipemoe.engine.metrics.StepSplit;
import dev.pipemoe.service.workers.AttemptState;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Repository;

/**
 * The reads behind the gauges. They read the database, not this replica's memory, so every
 * replica exports the same values and nothing is lost when a replica restarts. Each touches only
 * live rows through partial indexes (queued or running jobs, live attempts) and the small workers
 * table, never the history.
 */
@Repository
class GaugeQueries {

  private final NamedParameterJdbcTemplate named;

  GaugeQueries(NamedParameterJdbcTemplate named) {
    this.named = named;
  }

  record JobCount(String state, String deviceType, long jobs) {}

  record WorkerCount(String deviceType, boolean online, long workers, long devices, long busyDevices) {}

  /** A running job's latest complete step; its split (mean over ranks) null when its workers sent none. */
  record RunningJob(UUID id, String name, String schedule, String deviceType, int step, double flopsPerDevice,
      double stepSeconds, StepSplit split) {}

  List<JobCount> activeJobs() {
    return named.query("""
        select state, device_type, count(*) as jobs from jobs
        where state in ('QUEUED', 'RUNNING', 'CANCELLING') group by state, device_type""",
        (rs, n) -> new JobCount(rs.getString(1), rs.getString(2), rs.getLong(3)));
  }

  List<WorkerCount> workers(Instant onlineSince) {
    return named.query("""
        select w.device_type, w.last_heartbeat_at >= :since as online, count(*) as workers,
               sum(w.devices) as devices, coalesce(sum(b.busy), 0) as busy
        from workers w
        left join (select worker_id, sum(ranks) as busy from attempts
                   where state in %s group by worker_id) b on b.worker_id = w.id
        group by 1, 2""".formatted(AttemptState.LIVE_SQL), new MapSqlParameterSource("since", onlineSince.atOffset(ZoneOffset.UTC)),
        (rs, n) -> new WorkerCount(rs.getString(1), rs.getBoolean(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
  }

  /**
   * The {@code limit} most recently started running jobs with their latest complete step (every
   * rank reported) of their current attempt; jobs without one yet are left out.
   */
  List<RunningJob> runningJobSteps(int limit) {
    return named.query("""
        select j.id, j.name, j.schedule, j.device_type, s.*
        from (select id, name, schedule, device_type, attempt, devices from jobs
              where state in ('RUNNING', 'CANCELLING') order by started_at desc limit :limit) j
        join lateral (
            select m.step, avg(m.tflops_per_device) * 1e12 as flops, max(m.step_seconds) as step_seconds, %s
            from step_metrics m where m.job_id = j.id and m.attempt = j.attempt
            group by m.step having count(*) >= j.devices
            order by m.step desc limit 1) s on true""".formatted(StepMetricsRepository.SPLIT_COLUMNS.stream()
            .map(c -> "avg(m." + c + ") as " + c).collect(Collectors.joining(", "))),
        new MapSqlParameterSource("limit", limit),
        (rs, n) -> new RunningJob(rs.getObject("id", UUID.class), rs.getString("name"), rs.getString("schedule"),
            rs.getString("device_type"), rs.getInt("step"), rs.getDouble("flops"), rs.getDouble("step_seconds"),
            StepMetricsRepository.split(rs)));
  }
}
