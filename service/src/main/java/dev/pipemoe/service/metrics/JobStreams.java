package dev.pipemoe.service.metrics;

import dev.pipemoe.service.jobs.JobEventRepository;
import dev.pipemoe.service.jobs.JobRepository;
import dev.pipemoe.service.workers.AttemptAccess;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Starts live streams, one virtual thread each (a waiting stream costs a little memory, no
 * platform thread and no connection), and ends them all when the service shuts down, before the
 * database pool they poll goes away.
 */
@Component
class JobStreams implements DisposableBean {

  private final Set<JobStream> open = ConcurrentHashMap.newKeySet();
  private final JobRepository jobs;
  private final JobEventRepository events;
  private final StepMetricsRepository steps;
  private final AttemptAccess attempts;
  private final MetricsProperties properties;

  JobStreams(JobRepository jobs, JobEventRepository events, StepMetricsRepository steps, AttemptAccess attempts,
      MetricsProperties properties) {
    this.jobs = jobs;
    this.events = events;
    this.steps = steps;
    this.attempts = attempts;
    this.properties = properties;
  }

  SseEmitter open(UUID jobId, StreamCursor cursor) {
    SseEmitter emitter = new SseEmitter(properties.streamTimeout().toMillis());
    JobStream stream = new JobStream(jobId, cursor, emitter, jobs, events, steps, attempts, properties);
    emitter.onCompletion(stream::close);
    emitter.onTimeout(stream::close);
    emitter.onError(e -> stream.close());
    open.add(stream);
    Thread.ofVirtual().name("job-stream-" + jobId).start(() -> {
      try {
        stream.run();
      } finally {
        open.remove(stream);
      }
    });
    return emitter;
  }

  int openStreams() {
    return open.size();
  }

  @Override
  public void destroy() {
    open.forEach(JobStream::close);
  }
}
