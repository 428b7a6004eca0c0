package dev.pipemoe.service.workers;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.security.Role;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The fleet as GET /api/v1/workers shows it. A worker is ONLINE while its last heartbeat is younger
 * than the lease timeout ({@link SchedulerProperties#onlineSince}). Free devices are the
 * service's count (devices minus live attempts' ranks), the number leases are decided on.
 */
@Service
class WorkerList {

  enum WorkerState { ONLINE, OFFLINE }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record WorkerView(UUID id, String name, String deviceType, int devices, int freeDevices, WorkerState state,
      Instant lastHeartbeatAt, Instant registeredAt, Instant firstRegisteredAt, List<String> fabrics, String version,
      Integer reportedFreeDevices, int liveAttempts, List<AttemptView> attempts) {}

  /** A live attempt on a worker; listed only for callers who may see its job. */
  record AttemptView(UUID jobId, int attempt, AttemptState state, int ranks, Instant leaseExpiresAt) {}

  record Workers(List<WorkerView> workers) {}

  private final LeaseRepository repository;
  private final SchedulerProperties properties;
  private final InstantSource clock;

  WorkerList(LeaseRepository repository, SchedulerProperties properties, InstantSource clock) {
    this.repository = repository;
    this.properties = properties;
    this.clock = clock;
  }

  /** Users and admins see every worker; a worker token sees the workers of its own owner. */
  @Transactional(readOnly = true)
  public Workers list(Caller caller) {
    boolean worker = caller.role() == Role.WORKER;
    Map<UUID, List<LeaseRepository.LiveAttempt>> live = repository.liveAttempts().stream()
        .collect(Collectors.groupingBy(LeaseRepository.LiveAttempt::workerId));
    Instant onlineSince = properties.onlineSince(clock.instant());
    List<WorkerView> views = repository.listWorkers(worker ? caller.owner() : null).stream().map(w -> {
      List<LeaseRepository.LiveAttempt> attempts = live.getOrDefault(w.id(), List.of());
      int busy = attempts.stream().mapToInt(LeaseRepository.LiveAttempt::ranks).sum();
      List<AttemptView> visible = attempts.stream()
          .filter(a -> worker || caller.mayAccess(a.jobOwner()))
          .map(a -> new AttemptView(a.jobId(), a.attempt(), a.state(), a.ranks(), a.leaseExpiresAt()))
          .toList();
      WorkerState state = w.lastHeartbeatAt().isBefore(onlineSince) ? WorkerState.OFFLINE : WorkerState.ONLINE;
      return new WorkerView(w.id(), w.name(), w.deviceType(), w.devices(), Math.max(0, w.devices() - busy), state,
          w.lastHeartbeatAt(), w.registeredAt(), w.firstRegisteredAt(), w.fabrics(), w.version(),
          w.reportedFreeDevices(), attempts.size(), visible);
    }).toList();
    return new Workers(views);
  }
}
