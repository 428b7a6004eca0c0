package dev.pipemoe.service.jobs;

import io.swagger.v3.oas.annotations.media.Schema;

/**
 * Why a queued job is not running yet, judged from the fleet as it is now. The job is never
 * failed for it: a worker that fits may register later (a node pool that scales up).
 *
 * @param reason what holds it, for machines
 * @param message the same for people, with the numbers
 * @param onlineWorkers online workers of the job's device type (that have not left)
 * @param largestWorkerDevices the most devices one of them has (0 when none)
 * @param queuedAhead queued jobs of the same device type that are older, so looked at first;
 *     counted up to {@link #AHEAD_COUNTED} (that number means as many or more)
 */
@Schema(description = "only on QUEUED jobs: why the job waits, judged from the fleet now")
public record Waiting(Reason reason, String message, int onlineWorkers, int largestWorkerDevices,
    int queuedAhead) {

  /** How far {@code queuedAhead} counts: enough to tell a person, cheap on every submit. */
  public static final int AHEAD_COUNTED = 100;

  public enum Reason {
    /** No online worker has the job's device type. */
    NO_WORKER,
    /** Workers of the type are online, but none has as many devices as the job has ranks. */
    NO_WORKER_LARGE_ENOUGH,
    /** A worker could run it; its devices are in use, or older jobs go first. */
    DEVICES_BUSY
  }
}
