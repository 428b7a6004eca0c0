package dev.pipemoe.engine.protocol;

import dev.pipemoe.engine.config.JobSpec;
import java.time.Instant;

/**
 * {@code POST /api/v1/workers/{workerId}/lease}: a long poll that answers 200 with an assignment,
 * or 204 when no job fits within the poll timeout.
 *
 * @param spec the job spec as stored; the worker validates it itself (the same engine version
 *     yields the same effective config) so nothing but the spec has to travel
 * @param ranks ranks to run (= the job's devices, all on this worker for now)
 * @param leaseExpiresAt the lease holds until then unless heartbeats renew it
 */
public record Assignment(String jobId, int attempt, String name, JobSpec spec, int ranks,
    Instant leaseExpiresAt) {

  public AttemptRef ref() {
    return new AttemptRef(jobId, attempt);
  }
}
