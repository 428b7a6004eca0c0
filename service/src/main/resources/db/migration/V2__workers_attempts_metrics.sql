-- The scheduling issue: workers, attempts (the leases), the run summary, per-step metrics, and a
-- token role for Prometheus. Every lease and transition statement is in workers/LeaseRepository.

-- METRICS: a token that may scrape /actuator/prometheus and nothing else (a Prometheus server's)
alter table api_tokens drop constraint api_tokens_role_check;
alter table api_tokens add constraint api_tokens_role_check
    check (role in ('USER', 'ADMIN', 'WORKER', 'METRICS'));

-- when the job last entered QUEUED (submit or retry): queue wait = lease time - queued_at
alter table jobs add column queued_at timestamptz;
update jobs set queued_at = created_at where state = 'QUEUED';
-- the worker's account of the finished run (AttemptStatus.Summary), json like the other columns
alter table jobs add column summary json;

-- the lease statement's candidates: one device type's queue, oldest first
create index jobs_queued_by_type on jobs (device_type, created_at, id) where state = 'QUEUED';
-- running jobs for the gauges and the stream, without scanning finished ones
create index jobs_active on jobs (started_at desc) where state in ('RUNNING', 'CANCELLING');

create table workers (
    id                    uuid         primary key,
    -- the node name: the worker's identity across restarts
    name                  varchar(100) not null unique,
    -- the owner of the WORKER token that registered it; only tokens of this owner may act for it
    owner                 varchar(100) not null,
    -- new on every process start: a register with another boot id loses the old boot's attempts
    boot_id               varchar(100) not null,
    device_type           varchar(32)  not null,
    devices               integer      not null check (devices >= 1),
    fabrics               text[]       not null,
    software_version      varchar(100) not null,
    first_registered_at   timestamptz  not null,
    registered_at         timestamptz  not null,
    last_heartbeat_at     timestamptz  not null,
    -- what the worker said in its last heartbeat; informational, the fit counts leases itself
    reported_free_devices integer
);

create table attempts (
    job_id           uuid        not null references jobs (id) on delete cascade,
    attempt          integer     not null check (attempt >= 1),
    worker_id        uuid        not null references workers (id),
    state            varchar(16) not null
                     check (state in ('LEASED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST')),
    ranks            integer     not null check (ranks >= 1),
    leased_at        timestamptz not null,
    lease_expires_at timestamptz not null,
    started_at       timestamptz,
    finished_at      timestamptz,
    -- machine-readable cause of the end: LEASE_EXPIRED, WORKER_RESTARTED, DEVICE_ERROR, ...
    reason           varchar(64),
    message          text,
    version          bigint      not null,
    primary key (job_id, attempt),
    check ((state in ('LEASED', 'RUNNING')) = (finished_at is null))
);

-- a worker's live attempts (free devices, heartbeat renewal, listing)
create index attempts_active_by_worker on attempts (worker_id) where state in ('LEASED', 'RUNNING');
-- the sweeper's scan for expired leases, soonest first
create index attempts_active_by_expiry on attempts (lease_expires_at) where state in ('LEASED', 'RUNNING');
-- the last line of "exactly once": a job never has two live attempts, whatever a bug upstream does
create unique index attempts_one_live_per_job on attempts (job_id) where state in ('LEASED', 'RUNNING');

-- one rank's step (engine StepMetrics, base units); the key makes ingest idempotent, and its order
-- (attempt, step, rank) is the order every read wants: per attempt, by step, ranks together
create table step_metrics (
    job_id                     uuid             not null,
    attempt                    integer          not null,
    step                       integer          not null check (step >= 0),
    rank                       integer          not null check (rank >= 0),
    step_seconds               double precision not null,
    compute_busy_seconds       double precision not null,
    ep_busy_seconds            double precision not null,
    tp_busy_seconds            double precision not null,
    other_comm_busy_seconds    double precision not null,
    exposed_comm_seconds       double precision not null,
    tflops_per_device          double precision not null,
    hardware_tflops_per_device double precision not null,
    tokens_per_second          double precision not null,
    loss                       double precision not null,
    aux_loss                   double precision not null,
    dropped_tokens             bigint           not null,
    primary key (job_id, attempt, step, rank),
    foreign key (job_id, attempt) references attempts (job_id, attempt) on delete cascade
);
