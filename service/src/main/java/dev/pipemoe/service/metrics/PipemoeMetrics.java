package dev.pipemoe.service.metrics;

import dev.pipemoe.engine.config.DeviceType;
import dev.pipemoe.engine.metrics.StepSplit;
import dev.pipemoe.service.jobs.JobNotices;
import dev.pipemoe.service.jobs.JobState;
import dev.pipemoe.service.workers.AttemptNotices;
import dev.pipemoe.service.workers.AttemptState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * Every {@code pipemoe_*} meter, registered here and nowhere else (docs/service.md lists them).
 * Base units (seconds, FLOP/s); labels only from bounded sets: state, outcome, device type, and
 * for running jobs their id, name and schedule, capped at {@code pipemoe.metrics.max-job-series}
 * series and removed when the job ends. Counters and timers count what this replica did (sum them
 * over replicas); gauges are read from the database ({@link GaugeRefresher}), so every replica
 * exports the same value.
 */
@Component
class PipemoeMetrics {

  static final List<String> DEVICE_TYPES = Arrays.stream(DeviceType.values()).map(DeviceType::jsonName).toList();
  static final List<JobState> ACTIVE = List.of(JobState.QUEUED, JobState.RUNNING, JobState.CANCELLING);

  /** Queue waits: from "a worker was already waiting" to "the fleet is full for an hour". */
  private static final Duration[] WAIT_BUCKETS = millis(10, 50, 100, 500, 1_000, 5_000, 10_000, 30_000, 60_000,
      300_000, 900_000, 3_600_000);
  private static final Duration[] INGEST_BUCKETS = millis(1, 5, 10, 25, 50, 100, 250, 500, 1_000, 5_000);

  private final MeterRegistry registry;
  private final GaugeRows jobs;
  private final GaugeRows workers;
  private final GaugeRows devices;
  private final GaugeRows jobFlops;
  private final GaugeRows jobStepSeconds;
  private final GaugeRows jobStepSplit;
  private final AtomicLong omitted = new AtomicLong();
  private final Timer ingest;
  private final Counter stored;
  private final Counter duplicates;

  PipemoeMetrics(MeterRegistry registry, JobStreams streams) {
    this.registry = registry;
    for (JobNotices.SubmitOutcome o : JobNotices.SubmitOutcome.values()) {
      submissions(o);
    }
    for (String type : DEVICE_TYPES) {
      for (JobState s : List.of(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)) {
        finished(s, type);
      }
      for (AttemptState s : List.of(AttemptState.SUCCEEDED, AttemptState.FAILED, AttemptState.CANCELLED,
          AttemptState.LOST)) {
        attemptsEnded(s, type);
      }
      queueWait(type);
      submitToLease(type);
    }
    sweeps(false);
    sweeps(true);
    refreshes(false);
    refreshes(true);
    this.stored = rows("stored");
    this.duplicates = rows("duplicate");
    this.ingest = Timer.builder("pipemoe.metric.ingest").description("time to store one metric batch (commit"
        + " included); its count is the batches stored").serviceLevelObjectives(INGEST_BUCKETS).register(registry);
    this.jobs = new GaugeRows(MultiGauge.builder("pipemoe.jobs").description("jobs queued, running or cancelling, by state and"
        + " device type (finished jobs: pipemoe_jobs_finished_total)").register(registry));
    this.workers = new GaugeRows(MultiGauge.builder("pipemoe.workers").description("workers by state (ONLINE: a heartbeat within"
        + " the lease timeout) and device type").register(registry));
    this.devices = new GaugeRows(MultiGauge.builder("pipemoe.worker.devices").description("devices of online workers, free or"
        + " busy (held by live attempts), by device type").register(registry));
    this.jobFlops = new GaugeRows(MultiGauge.builder("pipemoe.job.flops.per.second.per.device").description("a running job's"
        + " model FLOP/s per device, mean over ranks, at its latest complete step").register(registry));
    this.jobStepSeconds = new GaugeRows(MultiGauge.builder("pipemoe.job.step.seconds").description("a running job's step time"
        + " (slowest rank) at its latest complete step").register(registry));
    this.jobStepSplit = new GaugeRows(MultiGauge.builder("pipemoe.job.step.split.seconds").description("a running"
        + " job's step time split by part (attention, moe_compute, exposed_comm, dp_reduction, optimizer, other,"
        + " idle; they add up to the ranks' mean step time), mean over ranks, at its latest complete step")
        .register(registry));
    Gauge.builder("pipemoe.job.series.omitted", omitted, AtomicLong::get).description("running jobs without their"
        + " own series because of pipemoe.metrics.max-job-series").register(registry);
    Gauge.builder("pipemoe.streams.open", streams, JobStreams::openStreams).description("live job streams this"
        + " replica serves").register(registry);
  }

  // ------------------------------------------------------------------ events of this replica

  @EventListener
  void submitted(JobNotices.Submitted notice) {
    submissions(notice.outcome()).increment();
  }

  @TransactionalEventListener(fallbackExecution = true)
  void finished(JobNotices.Finished notice) {
    finished(notice.state(), notice.deviceType()).increment();
  }

  @TransactionalEventListener(fallbackExecution = true)
  void leased(AttemptNotices.Leased notice) {
    queueWait(notice.deviceType()).record(notice.queueWait());
    if (notice.sinceSubmit() != null) {
      submitToLease(notice.deviceType()).record(notice.sinceSubmit());
    }
  }

  @TransactionalEventListener(fallbackExecution = true)
  void ended(AttemptNotices.Ended notice) {
    attemptsEnded(notice.state(), notice.deviceType()).increment();
  }

  @EventListener
  void swept(AttemptNotices.Swept notice) {
    sweeps(notice.failed()).increment();
  }

  @EventListener
  void ingested(MetricIngest.Ingested notice) {
    stored.increment(notice.stored());
    duplicates.increment(notice.duplicates());
    ingest.record(Duration.ofNanos(notice.nanos()));
  }

  // ------------------------------------------------------------------ gauges, from the database

  void updateJobs(List<GaugeQueries.JobCount> counts) {
    Map<Tags, Long> rows = new LinkedHashMap<>();
    for (JobState state : ACTIVE) {
      for (String type : DEVICE_TYPES) {
        long n = counts.stream().filter(c -> c.state().equals(state.name()) && c.deviceType().equals(type))
            .mapToLong(GaugeQueries.JobCount::jobs).sum();
        rows.put(Tags.of("state", state.name(), "device_type", type), n);
      }
    }
    jobs.update(rows);
  }

  void updateWorkers(List<GaugeQueries.WorkerCount> counts) {
    Map<Tags, Long> workerRows = new LinkedHashMap<>();
    Map<Tags, Long> deviceRows = new LinkedHashMap<>();
    for (String type : DEVICE_TYPES) {
      for (boolean online : new boolean[] {true, false}) {
        long n = counts.stream().filter(c -> c.deviceType().equals(type) && c.online() == online)
            .mapToLong(GaugeQueries.WorkerCount::workers).sum();
        workerRows.put(Tags.of("state", online ? "ONLINE" : "OFFLINE", "device_type", type), n);
      }
      long all = counts.stream().filter(c -> c.deviceType().equals(type) && c.online())
          .mapToLong(GaugeQueries.WorkerCount::devices).sum();
      long busy = counts.stream().filter(c -> c.deviceType().equals(type) && c.online())
          .mapToLong(GaugeQueries.WorkerCount::busyDevices).sum();
      deviceRows.put(Tags.of("state", "busy", "device_type", type), busy);
      deviceRows.put(Tags.of("state", "free", "device_type", type), Math.max(0, all - busy));
    }
    workers.update(workerRows);
    devices.update(deviceRows);
  }

  /** Replaces the running jobs' series: a job not in {@code running} (it ended) loses its series. */
  void updateRunningJobs(List<GaugeQueries.RunningJob> running, long total) {
    Map<Tags, Double> flops = new LinkedHashMap<>();
    Map<Tags, Double> seconds = new LinkedHashMap<>();
    Map<Tags, Double> split = new LinkedHashMap<>();
    for (GaugeQueries.RunningJob job : running) {
      Tags tags = Tags.of("job_id", job.id().toString(), "job_name", job.name(), "schedule", job.schedule(),
          "device_type", job.deviceType());
      flops.put(tags, job.flopsPerDevice());
      seconds.put(tags, job.stepSeconds());
      if (job.split() != null) {
        for (StepSplit.Part part : StepSplit.Part.values()) {
          split.put(tags.and("part", part.label()), part.of(job.split()));
        }
      }
    }
    jobFlops.update(flops);
    jobStepSeconds.update(seconds);
    jobStepSplit.update(split);
    omitted.set(Math.max(0, total - running.size()));
  }

  void refreshed(boolean failed) {
    refreshes(failed).increment();
  }

  // ------------------------------------------------------------------ meter definitions

  private Counter submissions(JobNotices.SubmitOutcome outcome) {
    return Counter.builder("pipemoe.job.submissions").description("POST /api/v1/jobs by outcome")
        .tag("outcome", outcome.name()).register(registry);
  }

  private Counter finished(JobState state, String deviceType) {
    return Counter.builder("pipemoe.jobs.finished").description("jobs that reached a final state")
        .tags("state", state.name(), "device_type", deviceType).register(registry);
  }

  private Counter attemptsEnded(AttemptState state, String deviceType) {
    return Counter.builder("pipemoe.attempts.ended").description("attempts that ended, by how (LOST: the lease"
        + " expired or the worker restarted)").tags("state", state.name(), "device_type", deviceType).register(registry);
  }

  private Timer queueWait(String deviceType) {
    return Timer.builder("pipemoe.queue.wait").description("from entering the queue (submit or retry) to a lease")
        .tag("device_type", deviceType).serviceLevelObjectives(WAIT_BUCKETS).register(registry);
  }

  private Timer submitToLease(String deviceType) {
    return Timer.builder("pipemoe.submit.to.lease").description("from submission to the first attempt's lease")
        .tag("device_type", deviceType).serviceLevelObjectives(WAIT_BUCKETS).register(registry);
  }

  private Counter sweeps(boolean failed) {
    return Counter.builder("pipemoe.lease.sweeps").description("passes of the lease sweeper")
        .tag("outcome", failed ? "failed" : "ok").register(registry);
  }

  private Counter refreshes(boolean failed) {
    return Counter.builder("pipemoe.state.refreshes")
        .description("passes of the loop that reads the gauges from the database").tag("outcome", failed ? "failed" : "ok").register(registry);
  }

  private Counter rows(String result) {
    return Counter.builder("pipemoe.metric.rows.ingested").description("step-metric records received: stored new,"
        + " or duplicate (a replay, stored before)").tag("result", result).register(registry);
  }

  private static Duration[] millis(long... values) {
    return Arrays.stream(values).mapToObj(Duration::ofMillis).toArray(Duration[]::new);
  }
}
