package dev.pipemoe.service.workers;

import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.Register;
import dev.pipemoe.service.jobs.JobState;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Repository;

/**
 * Every statement of the queue, the leases and the scheduler's job transitions: the one place to
 * read when asking "can two replicas hand out one job twice?". Large for that reason.
 *
 * <p>Rules every statement here follows:
 *
 * <ul>
 *   <li>Claiming a job is one UPDATE over a {@code FOR UPDATE SKIP LOCKED} sub-select that RETURNs
 *       what it claimed: no window between "find" and "take", and concurrent claimers skip each
 *       other's rows instead of waiting for them.
 *   <li>Every later change names the state it expects (attempts) or the version it read (jobs),
 *       and its row count is checked: zero means another transaction won (the caller decides what
 *       that means), more than one is a bug ({@link IllegalStateException}).
 *   <li>Locks are taken in one order, workers, then attempts, then jobs, so that no two of these
 *       transactions wait for each other in a circle.
 *   <li>Times come from the caller (the service's {@code InstantSource}), never from {@code now()},
 *       so that tests can move the clock and every replica uses the same rule.
 *   <li>A job's state changes only by a move {@link JobState} allows, and with its event
 *       ({@link #insertEvent}, same {@code now}) in the same transaction: the database refuses
 *       anything else at commit (docs/service.md §3.6).
 * </ul>
 */
@Repository
class LeaseRepository {

  private static final String LIVE = AttemptState.LIVE_SQL;

  private final NamedParameterJdbcTemplate named;
  private final JdbcTemplate jdbc;

  LeaseRepository(NamedParameterJdbcTemplate named) {
    this.named = named;
    this.jdbc = named.getJdbcTemplate();
  }

  /** @param leftAt when the worker said it stops (no lease until it registers again), or null */
  record WorkerRow(UUID id, String name, String owner, String bootId, String deviceType, int devices,
      Instant leftAt) {}

  /** A job this worker just leased, with what the assignment and the metrics need. */
  record Claimed(UUID jobId, String name, String spec, String deviceType, int ranks, int attempt,
      int maxAttempts, Instant createdAt, Instant queuedAt) {}

  record AttemptRow(UUID jobId, int attempt, UUID workerId, String workerName, AttemptState state, int ranks) {}

  record JobRow(UUID id, JobState state, int attempt, int maxAttempts, String deviceType, long version) {}

  /** An attempt a heartbeat renewed, and the state of its job (CANCELLING: tell the worker). */
  record Renewed(UUID jobId, int attempt, JobState jobState) {}

  // ---------------------------------------------------------------- workers

  /** Inserts a worker under a new name and returns its id; a known name inserts nothing. */
  Optional<UUID> insertWorker(UUID id, String owner, Register.Request r, Instant now) {
    return jdbc.execute((ConnectionCallback<Optional<UUID>>) con -> {
      try (PreparedStatement ps = con.prepareStatement("""
          insert into workers (id, name, owner, boot_id, device_type, devices, fabrics, software_version,
                               first_registered_at, registered_at, last_heartbeat_at)
          values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          -- two first registrations of one name: the unique name lets one insert, the other updates
          on conflict (name) do nothing
          returning id""")) {
        int i = 0;
        ps.setObject(++i, id);
        ps.setString(++i, r.name());
        ps.setString(++i, owner);
        ps.setString(++i, r.bootId());
        ps.setString(++i, r.deviceType());
        ps.setInt(++i, r.devices());
        ps.setArray(++i, con.createArrayOf("text", r.fabrics().toArray()));
        ps.setString(++i, r.version());
        ps.setObject(++i, at(now));
        ps.setObject(++i, at(now));
        ps.setObject(++i, at(now));
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(rs.getObject(1, UUID.class)) : Optional.empty();
        }
      }
    });
  }

  /**
   * Locks a worker by name for its re-registration: a heartbeat or lease of the old boot waits
   * until the new boot's registration (and the loss of the old boot's attempts) committed.
   */
  Optional<WorkerRow> lockWorkerByName(String name) {
    return named.query("select * from workers where name = :name for no key update",
        new MapSqlParameterSource("name", name), WORKER).stream().findFirst();
  }

  /**
   * Locks a worker for a lease. Two lease calls of one worker (the worker may poll on several
   * threads, or retry a call whose answer was lost) would otherwise both count the same free
   * devices and both take a job: the second waits here until the first committed its attempt.
   */
  Optional<WorkerRow> lockWorker(UUID id) {
    return named.query("select * from workers where id = :id for no key update",
        new MapSqlParameterSource("id", id), WORKER).stream().findFirst();
  }

  /**
   * Marks a worker as gone until it registers again; its device type, or empty when the owner has
   * no such worker. Takes the row lock a lease look holds, so a look that already locked the row
   * finishes first (and may still lease: that answer reaches no one and expires like any lost
   * one); every later look sees the mark.
   */
  Optional<String> markLeft(UUID id, String owner, Instant now) {
    return named.queryForList("update workers set left_at = :now where id = :id and owner = :owner"
        + " returning device_type", new MapSqlParameterSource("now", at(now)).addValue("id", id)
        .addValue("owner", owner), String.class).stream().findFirst();
  }

  /**
   * What a queued job waits on, in one statement (every submit asks): how many workers of its
   * device type may lease now (online, not left), how many of them have {@code devices} or more,
   * the largest of them, and the queued jobs of the type that a lease looks at first (older ones),
   * counted up to {@code cap} since counting a long queue whole made submits slow.
   */
  record Fleet(int online, int largeEnough, int largestDevices, int queuedAhead) {}

  Fleet fleet(String deviceType, int devices, Instant onlineSince, Instant createdAt, UUID jobId, int cap) {
    return named.queryForObject("""
        select w.online, w.large_enough, w.largest,
               (select count(*) from (select 1 from jobs
                    where state = 'QUEUED' and device_type = :deviceType and (created_at, id) < (:createdAt, :id)
                    limit :cap) ahead) as ahead
        from (select count(*) as online, count(*) filter (where devices >= :devices) as large_enough,
                     coalesce(max(devices), 0) as largest from workers
              where device_type = :deviceType and last_heartbeat_at >= :since and left_at is null) w""",
        new MapSqlParameterSource("deviceType", deviceType).addValue("devices", devices)
            .addValue("since", at(onlineSince)).addValue("createdAt", at(createdAt)).addValue("id", jobId)
            .addValue("cap", cap),
        (rs, n) -> new Fleet(rs.getInt("online"), rs.getInt("large_enough"), rs.getInt("largest"),
            rs.getInt("ahead")));
  }

  Optional<WorkerRow> findWorker(UUID id) {
    return named.query("select * from workers where id = :id", new MapSqlParameterSource("id", id), WORKER)
        .stream().findFirst();
  }

  void updateRegistration(UUID id, Register.Request r, boolean newBoot, Instant now) {
    int updated = jdbc.execute((ConnectionCallback<Integer>) con -> {
      try (PreparedStatement ps = con.prepareStatement("""
          update workers
          set boot_id = ?, device_type = ?, devices = ?, fabrics = ?, software_version = ?,
              registered_at = case when ? then ? else registered_at end, last_heartbeat_at = ?,
              left_at = null
          where id = ?""")) {
        int i = 0;
        ps.setString(++i, r.bootId());
        ps.setString(++i, r.deviceType());
        ps.setInt(++i, r.devices());
        ps.setArray(++i, con.createArrayOf("text", r.fabrics().toArray()));
        ps.setString(++i, r.version());
        ps.setBoolean(++i, newBoot);
        ps.setObject(++i, at(now));
        ps.setObject(++i, at(now));
        ps.setObject(++i, id);
        return ps.executeUpdate();
      }
    });
    expectOne(updated, "re-registration of worker " + id);
  }

  /** Records a heartbeat; false when no worker of this owner has this id (it must register again). */
  boolean touchHeartbeat(UUID id, String owner, int reportedFree, Instant now) {
    int updated = named.update("""
        update workers set last_heartbeat_at = :now, reported_free_devices = :free
        where id = :id and owner = :owner""",
        new MapSqlParameterSource("now", at(now)).addValue("free", reportedFree).addValue("id", id)
            .addValue("owner", owner));
    if (updated > 1) {
      throw new IllegalStateException("heartbeat updated " + updated + " workers with id " + id);
    }
    return updated == 1;
  }

  // ---------------------------------------------------------------- leases

  /**
   * The worker's devices minus those of its live attempts. Must run as its own statement after
   * {@link #lockWorker}: in READ COMMITTED a statement sees what committed before it started, so a
   * sum taken in the locking statement itself could miss the attempt the lock holder just added.
   */
  int freeDevices(UUID workerId) {
    Integer free = named.queryForObject("""
        select w.devices - coalesce((select sum(a.ranks) from attempts a
                                     where a.worker_id = w.id and a.state in %s), 0)
        from workers w where w.id = :id""".formatted(LIVE), new MapSqlParameterSource("id", workerId), Integer.class);
    return free == null ? 0 : free;
  }

  /**
   * Claims the oldest queued job that fits the worker (its device type; no more devices than are
   * free; all ranks on this worker) and creates its attempt, in one statement.
   *
   * <p>The race it closes: two replicas (or two workers) looking at the same queue. The sub-select
   * locks its candidate row and skips rows locked by other claimers, so two claims never take one
   * job; a row that another transaction changed after our snapshot is re-checked against the
   * WHERE when it is locked (PostgreSQL re-evaluates the conditions on the newest version), so a
   * job cancelled a moment ago is not claimed. A cancel that comes after the claim loses its
   * optimistic lock on {@code version} and retries against the RUNNING job. The unique index on
   * live attempts would refuse a second live attempt of one job even if all this failed.
   */
  Optional<Claimed> claim(WorkerRow worker, int free, Instant now, Instant expires) {
    MapSqlParameterSource p = new MapSqlParameterSource("deviceType", worker.deviceType())
        .addValue("free", free)              // jobs.devices: the fit
        .addValue("now", at(now))            // jobs.updated_at/started_at, attempts.leased_at
        .addValue("expires", at(expires))    // attempts.lease_expires_at
        .addValue("worker", worker.id());    // attempts.worker_id
    return named.query("""
        with candidate as (
            select id from jobs
            where state = 'QUEUED' and device_type = :deviceType and devices <= :free
            order by created_at, id
            limit 1
            for update skip locked
        ), leased as (
            update jobs j
            set state = 'RUNNING', attempt = j.attempt + 1, version = j.version + 1,
                updated_at = :now, started_at = coalesce(j.started_at, :now)
            from candidate
            where j.id = candidate.id
            returning j.id, j.name, j.spec, j.device_type, j.devices, j.attempt, j.max_attempts,
                      j.created_at, j.queued_at
        ), attempt as (
            insert into attempts (job_id, attempt, worker_id, state, ranks, leased_at, lease_expires_at, version)
            select id, attempt, :worker, 'LEASED', devices, :now, :expires, 0 from leased
        )
        select * from leased""", p, (rs, n) -> new Claimed(rs.getObject("id", UUID.class), rs.getString("name"),
        rs.getString("spec"), rs.getString("device_type"), rs.getInt("devices"), rs.getInt("attempt"),
        rs.getInt("max_attempts"), instant(rs, "created_at"), instant(rs, "queued_at"))).stream().findFirst();
  }

  /**
   * Renews the leases of the listed attempts that are still live and this worker's. An attempt the
   * sweeper is expiring right now is locked by it: the renewal waits, then finds it LOST and
   * leaves it (the heartbeat answers it as lost). The job's state comes along so that the
   * heartbeat can answer CANCELLING jobs as "cancel".
   */
  List<Renewed> renew(UUID workerId, List<AttemptRef> refs, Instant expires) {
    if (refs.isEmpty()) {
      return List.of();
    }
    return jdbc.execute((ConnectionCallback<List<Renewed>>) con -> {
      try (PreparedStatement ps = con.prepareStatement("""
          update attempts a
          set lease_expires_at = ?, version = a.version + 1
          from jobs j, unnest(?::uuid[], ?::int[]) as r (job_id, attempt)
          where a.job_id = r.job_id and a.attempt = r.attempt and a.worker_id = ? and a.state in %s
            and j.id = a.job_id
          returning a.job_id, a.attempt, j.state""".formatted(LIVE))) {
        ps.setObject(1, at(expires));
        ps.setArray(2, uuids(con, refs));
        ps.setArray(3, con.createArrayOf("int4", refs.stream().map(AttemptRef::attempt).toArray()));
        ps.setObject(4, workerId);
        List<Renewed> renewed = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            renewed.add(new Renewed(rs.getObject(1, UUID.class), rs.getInt(2), JobState.valueOf(rs.getString(3))));
          }
        }
        return renewed;
      }
    });
  }

  /** Asks the database for nothing (select 0): whether it answers. Returns 0. */
  int ping() {
    return jdbc.queryForObject("select 0", Integer.class);
  }

  /**
   * Marks up to {@code limit} live attempts whose lease expired before {@code now} as LOST and
   * returns them. Two sweepers (two replicas) skip each other's rows; a heartbeat that renewed a
   * lease after our snapshot is seen when the row is locked (the expiry condition is re-checked on
   * the newest version), so a renewed lease is never expired.
   */
  List<AttemptRow> expireLeases(Instant now, int limit) {
    return named.query("""
        with lost as (
            update attempts a
            set state = 'LOST', reason = 'LEASE_EXPIRED', finished_at = :now, version = a.version + 1
            where (a.job_id, a.attempt) in (
                select job_id, attempt from attempts
                where state in %1$s and lease_expires_at < :now
                order by lease_expires_at
                limit :limit
                for update skip locked)
              and a.state in %1$s
            returning a.*
        )
        select lost.*, w.name as worker_name from lost join workers w on w.id = lost.worker_id
        order by lost.lease_expires_at""".formatted(LIVE),
        new MapSqlParameterSource("now", at(now)).addValue("limit", limit), ATTEMPT);
  }

  /** Marks every live attempt of a worker LOST (it registered with a new boot id) and returns them. */
  List<AttemptRow> loseLiveAttempts(UUID workerId, String reason, Instant now) {
    return named.query("""
        with lost as (
            update attempts
            set state = 'LOST', reason = :reason, finished_at = :now, version = version + 1
            where worker_id = :worker and state in %s
            returning *
        )
        select lost.*, w.name as worker_name from lost join workers w on w.id = lost.worker_id""".formatted(LIVE),
        new MapSqlParameterSource("reason", reason).addValue("now", at(now)).addValue("worker", workerId), ATTEMPT);
  }

  // ---------------------------------------------------------------- attempt reports

  /**
   * LEASED to RUNNING, renewing the lease. False when the attempt is not LEASED by this worker any
   * more: already started (a retried report), or lost to the sweeper a moment ago.
   */
  boolean markStarted(UUID jobId, int attempt, UUID workerId, Instant now, Instant expires) {
    int updated = named.update("""
        update attempts
        set state = 'RUNNING', started_at = :now, lease_expires_at = :expires, version = version + 1
        where job_id = :job and attempt = :attempt and worker_id = :worker and state = 'LEASED'""",
        new MapSqlParameterSource("now", at(now)).addValue("expires", at(expires)).addValue("job", jobId)
            .addValue("attempt", attempt).addValue("worker", workerId));
    return updated == 1;
  }

  /**
   * Ends a live attempt of this worker; empty when it is not live and this worker's any more (the
   * sweeper or a new boot took it first, or this is a retried report). The row stays locked until
   * the transaction ends, so the job transition that follows cannot race the sweeper.
   */
  Optional<AttemptRow> endLive(UUID jobId, int attempt, UUID workerId, AttemptState state, String reason,
      String message, Instant now) {
    return named.query("""
        with ended as (
            update attempts
            set state = :state, reason = :reason, message = :message, finished_at = :now, version = version + 1
            where job_id = :job and attempt = :attempt and worker_id = :worker and state in %s
            returning *
        )
        select ended.*, w.name as worker_name from ended join workers w on w.id = ended.worker_id""".formatted(LIVE),
        new MapSqlParameterSource("state", state.name()).addValue("reason", reason).addValue("message", message)
            .addValue("now", at(now)).addValue("job", jobId).addValue("attempt", attempt).addValue("worker", workerId),
        ATTEMPT).stream().findFirst();
  }

  /**
   * The ranks of an attempt that this worker (of this owner) was leased, in any state; empty
   * otherwise. One query on the ingest path, which runs once per metric batch.
   */
  Optional<Integer> ranksIfHeld(UUID jobId, int attempt, UUID workerId, String owner) {
    return named.query("""
        select a.ranks from attempts a join workers w on w.id = a.worker_id
        where a.job_id = :job and a.attempt = :attempt and a.worker_id = :worker and w.owner = :owner""",
        new MapSqlParameterSource("job", jobId).addValue("attempt", attempt).addValue("worker", workerId)
            .addValue("owner", owner), (rs, n) -> rs.getInt(1)).stream().findFirst();
  }

  /** A job's attempts, oldest first (reads for the metrics views and the live stream). */
  List<AttemptRow> attemptsOf(UUID jobId) {
    return named.query("""
        select a.*, w.name as worker_name from attempts a join workers w on w.id = a.worker_id
        where a.job_id = :job order by a.attempt""", new MapSqlParameterSource("job", jobId), ATTEMPT);
  }

  Optional<AttemptRow> findAttempt(UUID jobId, int attempt) {
    return named.query("""
        select a.*, w.name as worker_name from attempts a join workers w on w.id = a.worker_id
        where a.job_id = :job and a.attempt = :attempt""",
        new MapSqlParameterSource("job", jobId).addValue("attempt", attempt), ATTEMPT).stream().findFirst();
  }

  // ---------------------------------------------------------------- the scheduler's job transitions

  /**
   * Locks the job of an attempt that just ended. A user's cancel (optimistic, on version) that
   * comes now waits, then loses, retries and sees the new state.
   */
  JobRow lockJob(UUID id) {
    return named.query("select * from jobs where id = :id for update", new MapSqlParameterSource("id", id),
        (rs, n) -> new JobRow(rs.getObject("id", UUID.class), JobState.valueOf(rs.getString("state")),
            rs.getInt("attempt"), rs.getInt("max_attempts"), rs.getString("device_type"), rs.getLong("version")))
        .stream().findFirst().orElseThrow(() -> new IllegalStateException("no job " + id));
  }

  /**
   * Moves a locked job, guarded by the version and state it was read with (we hold the lock, so
   * zero rows would be a bug here, not a race). QUEUED stamps {@code queued_at}, a terminal state
   * {@code finished_at}; a summary, when given, is stored with it.
   */
  void moveJob(JobRow job, JobState to, Instant now, String summaryJson) {
    MapSqlParameterSource p = new MapSqlParameterSource("to", to.name())
        .addValue("now", at(now))
        .addValue("queuedAt", to == JobState.QUEUED ? at(now) : null, Types.TIMESTAMP_WITH_TIMEZONE)
        .addValue("finishedAt", to.terminal() ? at(now) : null, Types.TIMESTAMP_WITH_TIMEZONE)
        .addValue("summary", summaryJson, Types.VARCHAR)
        .addValue("id", job.id()).addValue("version", job.version()).addValue("from", job.state().name());
    int updated = named.update("""
        update jobs
        set state = :to, version = version + 1, updated_at = :now,
            queued_at = coalesce(:queuedAt, queued_at), finished_at = coalesce(:finishedAt, finished_at),
            summary = coalesce(cast(:summary as json), summary)
        where id = :id and version = :version and state = :from""", p);
    expectOne(updated, "job " + job.id() + " " + job.state() + " -> " + to);
  }

  /** One state change of a job (from = to for STARTED), in the same transaction as the change. */
  void insertEvent(UUID jobId, Instant at, JobState from, JobState to, String reason, String message, String actor,
      int attempt) {
    named.update("""
        insert into job_events (job_id, at, from_state, to_state, reason, message, actor, attempt)
        values (:job, :at, :from, :to, :reason, :message, :actor, :attempt)""",
        new MapSqlParameterSource("job", jobId).addValue("at", at(at)).addValue("from", from.name())
            .addValue("to", to.name()).addValue("reason", reason).addValue("message", message)
            .addValue("actor", actor).addValue("attempt", attempt));
  }

  // ---------------------------------------------------------------- listing

  record WorkerListing(UUID id, String name, String owner, String deviceType, int devices, List<String> fabrics,
      String version, Instant firstRegisteredAt, Instant registeredAt, Instant lastHeartbeatAt,
      Integer reportedFreeDevices) {}

  record LiveAttempt(UUID workerId, UUID jobId, int attempt, AttemptState state, int ranks, Instant leaseExpiresAt,
      String jobOwner) {}

  /** Workers by name; only {@code owner}'s when it is not null. */
  List<WorkerListing> listWorkers(String owner) {
    return named.query("""
        select * from workers where (cast(:owner as varchar) is null or owner = :owner) order by name""",
        new MapSqlParameterSource().addValue("owner", owner, Types.VARCHAR), (rs, n) -> new WorkerListing(
            rs.getObject("id", UUID.class), rs.getString("name"), rs.getString("owner"), rs.getString("device_type"),
            rs.getInt("devices"), List.of((String[]) rs.getArray("fabrics").getArray()),
            rs.getString("software_version"), instant(rs, "first_registered_at"), instant(rs, "registered_at"),
            instant(rs, "last_heartbeat_at"), (Integer) rs.getObject("reported_free_devices")));
  }

  List<LiveAttempt> liveAttempts() {
    return jdbc.query("""
        select a.worker_id, a.job_id, a.attempt, a.state, a.ranks, a.lease_expires_at, j.owner
        from attempts a join jobs j on j.id = a.job_id
        where a.state in %s order by a.job_id""".formatted(LIVE), (rs, n) -> new LiveAttempt(
        rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getInt(3), AttemptState.valueOf(rs.getString(4)),
        rs.getInt(5), instant(rs, "lease_expires_at"), rs.getString(7)));
  }

  // ---------------------------------------------------------------- helpers

  private static final RowMapper<WorkerRow> WORKER = (rs, n) -> new WorkerRow(rs.getObject("id", UUID.class),
      rs.getString("name"), rs.getString("owner"), rs.getString("boot_id"), rs.getString("device_type"),
      rs.getInt("devices"), instant(rs, "left_at"));

  private static final RowMapper<AttemptRow> ATTEMPT = (rs, n) -> new AttemptRow(rs.getObject("job_id", UUID.class),
      rs.getInt("attempt"), rs.getObject("worker_id", UUID.class), rs.getString("worker_name"),
      AttemptState.valueOf(rs.getString("state")), rs.getInt("ranks"));

  private static void expectOne(int rows, String what) {
    if (rows != 1) {
      throw new IllegalStateException(what + " changed " + rows + " rows, expected exactly 1");
    }
  }

  private static Array uuids(java.sql.Connection con, List<AttemptRef> refs) throws SQLException {
    Object[] ids = new Object[refs.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = UUID.fromString(refs.get(i).jobId());
    }
    return con.createArrayOf("uuid", ids);
  }

  /** Timestamps travel as UTC offsets: unambiguous whatever the session's time zone. */
  static OffsetDateTime at(Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
    return value == null ? null : value.toInstant();
  }
}
