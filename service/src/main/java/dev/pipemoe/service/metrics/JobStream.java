package dev.pipemoe.service.metrics;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.pipemoe.service.jobs.Job;
import dev.pipemoe.service.jobs.JobEvent;
import dev.pipemoe.service.jobs.JobEventRepository;
import dev.pipemoe.service.jobs.JobRepository;
import dev.pipemoe.service.jobs.JobState;
import dev.pipemoe.service.metrics.StepMetricsRepository.StepRow;
import dev.pipemoe.service.workers.AttemptAccess;
import dev.pipemoe.service.workers.AttemptAccess.AttemptInfo;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.domain.Limit;
import org.springframework.http.MediaType;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * One live stream of one job, run on its own virtual thread: it polls the database for job events
 * and steps after its {@link StreamCursor} and sends them, in order. The database is the source of
 * truth, so a stream served by one replica sees what workers sent to another, and a reconnect
 * resumes exactly. It ends, after an {@code end} event, once the job is finished and everything
 * before that was sent.
 *
 * <p>Steps of a live attempt are sent in step order and only when complete (every rank reported),
 * so a step's aggregate never changes after it was sent; a step that waits for a rank holds back
 * the ones after it. Once an attempt has ended, what it has is sent as it is, and the stream moves
 * on to the next attempt. The order is the order things happened: an attempt's steps come after
 * its LEASED event and before the event that ended it, also when a stream catches up on history.
 *
 * <p>An attempt that ended may still get steps: a lost worker's spool drains later. Those late
 * steps are sent when they are stored, after whatever the stream sent meanwhile, as {@code step}
 * events that carry their own attempt. A stream that resumes (Last-Event-ID) past an attempt
 * counts what that attempt had stored then as sent; the metrics endpoint has all of it.
 */
final class JobStream {

  private static final Logger log = LoggerFactory.getLogger(JobStream.class);
  private static final int BATCH = 500;

  /** A job event as the stream sends it ({@code event: state}); {@code from} is absent on the submission. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record StateEvent(long id, Instant at, JobState from, JobState to, String reason, String message, String actor,
      int attempt) {}

  /** The last event ({@code event: end}): the job's final state; the client should close. */
  record End(JobState state) {}

  private final UUID jobId;
  private final SseEmitter emitter;
  private final JobRepository jobs;
  private final JobEventRepository events;
  private final StepMetricsRepository steps;
  private final AttemptAccess attempts;
  private final MetricsProperties properties;
  private volatile boolean closed;
  private StreamCursor cursor;
  /** For each attempt the stream moved past: the last step of it sent (later ones are late). */
  private final Map<Integer, Integer> endedAttempts = new TreeMap<>();

  JobStream(UUID jobId, StreamCursor cursor, SseEmitter emitter, JobRepository jobs, JobEventRepository events,
      StepMetricsRepository steps, AttemptAccess attempts, MetricsProperties properties) {
    this.jobId = jobId;
    this.cursor = cursor;
    this.emitter = emitter;
    this.jobs = jobs;
    this.events = events;
    this.steps = steps;
    this.attempts = attempts;
    this.properties = properties;
  }

  void close() {
    closed = true;
  }

  void run() {
    long lastWrite = System.nanoTime();
    try {
      while (!closed) {
        // the job first: if it is finished now, every event and attempt end before it is in what follows
        Job job = jobs.findById(jobId).orElseThrow();
        int sent = sendEvents();
        Flush flush = sendSteps(Integer.MAX_VALUE);
        sent += flush.sent() + sendLateSteps();
        if (sent == 0 && flush.done() && job.state().terminal()) {
          send("end", new End(job.state()));
          emitter.complete();
          return;
        }
        if (sent > 0) {
          lastWrite = System.nanoTime();
          continue;
        }
        if (System.nanoTime() - lastWrite > properties.streamKeepAlive().toNanos()) {
          emitter.send(SseEmitter.event().comment("keep-alive"));
          lastWrite = System.nanoTime();
        }
        TimeUnit.NANOSECONDS.sleep(properties.streamPollInterval().toNanos());
      }
    } catch (IOException | IllegalStateException e) {
      log.debug("stream of job {} closed: {}", jobId, e.toString()); // the client went away, or the emitter timed out
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.error("stream of job {} failed", jobId, e);
      emitter.completeWithError(e);
    }
  }

  private int sendEvents() throws IOException {
    List<JobEvent> next = events.findByJobIdAndIdGreaterThanOrderByIdAsc(jobId, cursor.eventId(), Limit.of(BATCH));
    int sent = next.size();
    for (JobEvent e : next) {
      if (endsAttempt(e)) {
        sent += sendSteps(e.attempt()).sent(); // the attempt's steps happened before its end
      }
      cursor = cursor.afterEvent(e.id());
      send("state", new StateEvent(e.id(), e.at(), e.fromState(), e.toState(), e.reason(), e.message(), e.actor(),
          e.attempt()));
    }
    return sent;
  }

  /** RUNNING or CANCELLING to anything else: the event that ended the job's current attempt. */
  private static boolean endsAttempt(JobEvent e) {
    return e.attempt() >= 1 && e.fromState() != null && e.fromState().hasLiveAttempt() && !e.toState().hasLiveAttempt();
  }

  /** How many steps were sent, and whether every attempt has ended and was sent in full. */
  private record Flush(int sent, boolean done) {}

  /** Sends the steps after the cursor, of attempts up to {@code lastAttempt}. */
  private Flush sendSteps(int lastAttempt) throws IOException {
    List<AttemptInfo> known = attempts.of(jobId);
    int sent = 0;
    while (cursor.attempt() <= Math.min(known.size(), lastAttempt)) {
      AttemptInfo attempt = known.get(cursor.attempt() - 1);
      List<StepRow> rows = steps.stepsAfter(jobId, attempt.attempt(), cursor.step(), BATCH);
      for (StepRow row : rows) {
        boolean complete = row.step() == cursor.step() + 1 && row.ranks() >= attempt.ranks();
        if (attempt.state().live() && !complete) {
          return new Flush(sent, false); // wait for the missing ranks or steps
        }
        cursor = cursor.afterStep(row.attempt(), row.step());
        send("step", row);
        sent++;
      }
      if (attempt.state().live()) {
        return new Flush(sent, false);
      }
      if (rows.size() == BATCH) {
        continue; // more of this ended attempt
      }
      if (cursor.attempt() == known.size() || cursor.attempt() == lastAttempt) {
        break;
      }
      endedAttempts.put(cursor.attempt(), cursor.step());
      cursor = cursor.nextAttempt();
    }
    return new Flush(sent, true);
  }

  /** Sends the steps of earlier attempts stored after the stream moved past them. */
  private int sendLateSteps() throws IOException {
    for (int attempt = 1; attempt < cursor.attempt(); attempt++) {
      // resumed past this attempt: what it had stored counts as sent
      endedAttempts.computeIfAbsent(attempt, a -> steps.stepRange(jobId, List.of(a)).map(r -> r[1]).orElse(-1));
    }
    int sent = 0;
    for (Map.Entry<Integer, Integer> attempt : endedAttempts.entrySet()) {
      for (StepRow row : steps.stepsAfter(jobId, attempt.getKey(), attempt.getValue(), BATCH)) {
        send("step", row);
        attempt.setValue(row.step());
        sent++;
      }
    }
    return sent;
  }

  private void send(String name, Object data) throws IOException {
    emitter.send(SseEmitter.event().name(name).id(cursor.id()).data(data, MediaType.APPLICATION_JSON));
  }
}
