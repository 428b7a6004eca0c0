package dev.pipemoe.service.workers;

import dev.pipemoe.engine.config.DeviceType;
import dev.pipemoe.engine.config.Named;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.Heartbeat;
import dev.pipemoe.engine.protocol.Register;
import dev.pipemoe.service.jobs.JobState;
import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.system.Ids;
import dev.pipemoe.service.system.Problems;
import dev.pipemoe.service.system.Problems.FieldError;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Registration and heartbeats. A worker is its name; the id it gets back stays the same across its
 * restarts. Only tokens of the owner that first registered a name may act for that worker, so a
 * leaked token of one team cannot renew or steal another team's leases.
 */
@Service
class WorkerRegistry {

  private static final Logger log = LoggerFactory.getLogger(WorkerRegistry.class);
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  private static final Pattern TEXT = Pattern.compile("[\\x21-\\x7e]{1,100}");
  static final int MAX_DEVICES = 65_536;

  private final LeaseRepository repository;
  private final AttemptEndings endings;
  private final SchedulerProperties properties;
  private final InstantSource clock;
  private final TransactionTemplate tx;

  WorkerRegistry(LeaseRepository repository, AttemptEndings endings, SchedulerProperties properties,
      InstantSource clock, PlatformTransactionManager transactions) {
    this.repository = repository;
    this.endings = endings;
    this.properties = properties;
    this.clock = clock;
    this.tx = new TransactionTemplate(transactions);
  }

  /**
   * A new name is inserted. A known name with the same boot id (the worker registers again after
   * a 404, or retries) keeps its attempts; with a new boot id the old process is gone, so its live
   * attempts are lost at once and retried, without waiting for their leases to expire.
   */
  Register.Response register(Caller caller, Register.Request request) {
    validate(request);
    UUID id = tx.execute(status -> {
      Instant now = clock.instant();
      Optional<UUID> inserted = repository.insertWorker(Ids.newId(now), caller.owner(), request, now);
      if (inserted.isPresent()) {
        log.info("worker {} registered: {} x {}, boot {}", request.name(), request.devices(), request.deviceType(),
            request.bootId());
        return inserted.get();
      }
      LeaseRepository.WorkerRow known = repository.lockWorkerByName(request.name()).orElseThrow();
      if (!known.owner().equals(caller.owner())) {
        throw Problems.problem(HttpStatus.CONFLICT, Problems.WORKER_NAME_TAKEN, "Worker name taken",
            "worker name '" + request.name() + "' is registered by another owner's token");
      }
      boolean newBoot = !known.bootId().equals(request.bootId());
      if (newBoot) {
        for (LeaseRepository.AttemptRow lost : repository.loseLiveAttempts(known.id(), "WORKER_RESTARTED", now)) {
          endings.apply(lost, "WORKER_RESTARTED", "the worker registered again with a new boot id", null, now);
        }
      }
      repository.updateRegistration(known.id(), request, newBoot, now);
      log.info("worker {} registered again ({}), boot {}", request.name(), newBoot ? "restarted" : "same boot",
          request.bootId());
      return known.id();
    });
    return new Register.Response(id.toString(), properties.heartbeatInterval(), properties.leaseTimeout(),
        properties.pollTimeout());
  }

  /**
   * Renews the listed attempts' leases. Answers {@code cancel} for those whose job is CANCELLING,
   * and {@code lost} for those that are not live and this worker's any more (expired, ended, or
   * unknown): the worker stops them without reporting. Attempts the worker does not list are not
   * renewed; a lease whose answer never reached the worker therefore expires and is retried.
   */
  Heartbeat.Response heartbeat(Caller caller, UUID workerId, Heartbeat.Request request) {
    if (request.freeDevices() < 0) {
      throw Problems.malformed("freeDevices must be >= 0", List.of(new FieldError("/freeDevices", "BODY-VALUE",
          "freeDevices must be >= 0, was " + request.freeDevices())));
    }
    List<AttemptRef> listed = request.running() == null ? List.of() : request.running();
    List<AttemptRef> known = listed.stream().filter(r -> isUuid(r.jobId())).toList();
    return tx.execute(status -> {
      Instant now = clock.instant();
      if (!repository.touchHeartbeat(workerId, caller.owner(), request.freeDevices(), now)) {
        throw unknownWorker(workerId);
      }
      Instant expires = now.plus(properties.leaseTimeout());
      List<LeaseRepository.Renewed> renewed = repository.renew(workerId, known, expires);
      Set<AttemptRef> live = new HashSet<>();
      List<AttemptRef> cancel = new ArrayList<>();
      for (LeaseRepository.Renewed r : renewed) {
        AttemptRef ref = new AttemptRef(r.jobId().toString(), r.attempt());
        live.add(ref);
        if (r.jobState() == JobState.CANCELLING) {
          cancel.add(ref);
        }
      }
      List<AttemptRef> lost = listed.stream()
          .filter(r -> !live.contains(new AttemptRef(normalized(r.jobId()), r.attempt()))).toList();
      return new Heartbeat.Response(cancel, lost, expires);
    });
  }

  /** The worker with this id, if the caller's owner may act for it; else 404 (register again). */
  LeaseRepository.WorkerRow require(Caller caller, UUID workerId) {
    return repository.findWorker(workerId).filter(w -> w.owner().equals(caller.owner()))
        .orElseThrow(() -> unknownWorker(workerId));
  }

  static RuntimeException unknownWorker(UUID workerId) {
    return Problems.notFound("no worker " + workerId + " for this token; register again");
  }

  private static boolean isUuid(String id) {
    try {
      UUID.fromString(id);
      return true;
    } catch (IllegalArgumentException | NullPointerException e) {
      return false;
    }
  }

  /** The id as the database spells it, so that a listed ref in upper case still matches. */
  private static String normalized(String id) {
    return isUuid(id) ? UUID.fromString(id).toString() : id;
  }

  private static void validate(Register.Request r) {
    List<FieldError> errors = new ArrayList<>();
    if (r.name() == null || !NAME.matcher(r.name()).matches()) {
      errors.add(value("/name", "name must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"));
    }
    if (r.bootId() == null || !TEXT.matcher(r.bootId()).matches()) {
      errors.add(value("/bootId", "bootId must be 1-100 visible ASCII characters (a UUID per process start)"));
    }
    if (r.deviceType() == null || Named.byName(DeviceType.class, r.deviceType()).isEmpty()) {
      errors.add(value("/deviceType", "deviceType must be one of " + Named.choices(DeviceType.class)
          + ", was " + r.deviceType()));
    }
    if (r.devices() < 1 || r.devices() > MAX_DEVICES) {
      errors.add(value("/devices", "devices must be from 1 to " + MAX_DEVICES + ", was " + r.devices()));
    }
    if (r.fabrics() == null || r.fabrics().stream().anyMatch(f -> f == null || !TEXT.matcher(f).matches())) {
      errors.add(value("/fabrics", "fabrics must be a list of names such as [\"local\"]"));
    }
    if (r.version() == null || !TEXT.matcher(r.version()).matches()) {
      errors.add(value("/version", "version must be 1-100 visible ASCII characters"));
    }
    if (!errors.isEmpty()) {
      throw Problems.malformed(errors.size() == 1 ? errors.getFirst().message()
          : errors.size() + " invalid fields, listed in errors", errors);
    }
  }

  private static FieldError value(String pointer, String message) {
    return new FieldError(pointer, "BODY-VALUE", message);
  }
}
