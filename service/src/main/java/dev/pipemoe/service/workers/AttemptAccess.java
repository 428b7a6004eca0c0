package dev.pipemoe.service.workers;

import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.system.Problems;
import dev.pipemoe.service.system.Problems.FieldError;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.stereotype.Service;

/**
 * Which attempts a worker may write metrics for: those it was leased, in any state, LOST included.
 * Its spool may drain after its last report, or after a restart whose new boot id made the
 * interrupted attempt lost: refusing those records would lose exactly the steps a crash cut off.
 * They are stored under their own attempt number, apart from the retry's.
 */
@Service
public class AttemptAccess {

  /** An attempt a worker may write metrics for, and how many ranks it has. */
  public record Writable(UUID jobId, int attempt, int ranks) {}

  private final LeaseRepository repository;
  private final WorkerRegistry registry;

  AttemptAccess(LeaseRepository repository, WorkerRegistry registry) {
    this.repository = repository;
    this.registry = registry;
  }

  /** One attempt of a job as the metrics views need it. */
  public record AttemptInfo(int attempt, AttemptState state, int ranks, String worker) {}

  /** A job's attempts, oldest first; the caller has checked that it may see the job. */
  public List<AttemptInfo> of(UUID jobId) {
    return repository.attemptsOf(jobId).stream()
        .map(a -> new AttemptInfo(a.attempt(), a.state(), a.ranks(), a.workerName())).toList();
  }

  public Writable forMetrics(Caller caller, UUID workerId, String jobId, int attempt) {
    UUID job;
    try {
      job = UUID.fromString(jobId);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw Problems.malformed("jobId must be a job's id", List.of(new FieldError("/jobId", "BODY-VALUE",
          "jobId must be a job's id (a UUID), was '" + jobId + "'")));
    }
    Optional<Integer> ranks = repository.ranksIfHeld(job, attempt, workerId, caller.owner());
    if (ranks.isPresent()) {
      return new Writable(job, attempt, ranks.get());
    }
    LeaseRepository.WorkerRow worker = registry.require(caller, workerId); // 404 when it is no worker of this owner
    throw AttemptReports.notHeld("attempt " + attempt + " of job " + jobId + " is not held by worker "
        + worker.name() + " (another worker's, or unknown)");
  }
}
