package dev.pipemoe.service.workers;

import dev.pipemoe.service.jobs.Job;
import dev.pipemoe.service.jobs.Waiting;
import dev.pipemoe.service.jobs.WaitingReasons;
import java.time.InstantSource;
import org.springframework.stereotype.Service;

/**
 * Why a queued job waits, in the terms a lease decides by ({@link LeaseRepository#claim}): a
 * worker of the job's device type, online and not left, with as many free devices as the job
 * has ranks, and older jobs first.
 */
@Service
class FleetWaiting implements WaitingReasons {

  private final LeaseRepository repository;
  private final SchedulerProperties properties;
  private final InstantSource clock;

  FleetWaiting(LeaseRepository repository, SchedulerProperties properties, InstantSource clock) {
    this.repository = repository;
    this.properties = properties;
    this.clock = clock;
  }

  @Override
  public Waiting of(Job queued) {
    String type = queued.deviceType();
    int needs = queued.devices();
    LeaseRepository.Fleet fleet = repository.fleet(type, needs, properties.onlineSince(clock.instant()),
        queued.createdAt(), queued.id(), Waiting.AHEAD_COUNTED);
    int ahead = fleet.queuedAhead();
    if (fleet.online() == 0) {
      return new Waiting(Waiting.Reason.NO_WORKER, "no online worker has device type " + type
          + "; the job waits until one registers (GET /api/v1/workers lists the fleet)", 0, 0, ahead);
    }
    if (fleet.largeEnough() == 0) {
      return new Waiting(Waiting.Reason.NO_WORKER_LARGE_ENOUGH, "the job needs " + needs + " " + type
          + " devices on one worker (all ranks of a job run on one worker), the largest online worker has "
          + fleet.largestDevices() + "; the job waits until a worker that large registers", fleet.online(),
          fleet.largestDevices(), ahead);
    }
    return new Waiting(Waiting.Reason.DEVICES_BUSY, fleet.largeEnough() + " online " + type + " worker(s) can run"
        + " it; it is leased when one of them asks for work with " + needs + " device(s) free"
        + (ahead == 0 ? "" : ", behind " + (ahead < Waiting.AHEAD_COUNTED ? ahead : ahead + " or more")
            + " older queued " + type + " job(s), which a lease looks at first"),
        fleet.online(), fleet.largestDevices(), ahead);
  }
}
