-- Jobs, their state changes, and the bearer tokens that own them.
-- Leave room for the scheduling issue: attempt/max_attempts, started/finished times, a partial index
-- over the queue, and version for the guarded updates of leases and heartbeats.

create table api_tokens (
    id          uuid         primary key,
    owner       varchar(100) not null,
    role        varchar(16)  not null check (role in ('USER', 'ADMIN', 'WORKER')),
    -- SHA-256 of the secret; the secret itself is never stored
    token_hash  bytea        not null unique check (octet_length(token_hash) = 32),
    hint        varchar(16)  not null,
    description varchar(200),
    created_at  timestamptz  not null,
    created_by  varchar(100) not null,
    revoked_at  timestamptz,
    revoked_by  varchar(100),
    version     bigint       not null
);

create table jobs (
    id              uuid         primary key,
    name            varchar(100) not null,
    owner           varchar(100) not null,
    state           varchar(16)  not null
                    check (state in ('QUEUED', 'RUNNING', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    spec_form       varchar(8)   not null check (spec_form in ('JSON', 'YAML', 'ARGS')),
    -- json, not jsonb: the spec comes back as it was given, key order included
    spec            json         not null,
    spec_args       text,
    effective       json         not null,
    warnings        json         not null,
    notes           json         not null,
    schedule        varchar(16)  not null,
    device_type     varchar(32)  not null,
    devices         integer      not null check (devices >= 1),
    attempt         integer      not null default 0 check (attempt >= 0),
    max_attempts    integer      not null default 3 check (max_attempts >= 1),
    idempotency_key varchar(255),
    request_hash    bytea,
    created_at      timestamptz  not null,
    updated_at      timestamptz  not null,
    started_at      timestamptz,
    finished_at     timestamptz,
    version         bigint       not null,
    check ((spec_form = 'ARGS') = (spec_args is not null)),
    check ((idempotency_key is null) = (request_hash is null))
);

-- one job per (owner, key): concurrent retries of one submit cannot both insert
create unique index jobs_owner_idempotency_key on jobs (owner, idempotency_key) where idempotency_key is not null;
-- keyset listing, newest first: all jobs (admins) and one owner's (users)
create index jobs_by_created on jobs (created_at desc, id desc);
create index jobs_by_owner_created on jobs (owner, created_at desc, id desc);
-- the scheduler's queue, oldest first (used from the scheduling issue on)
create index jobs_queued on jobs (created_at, id) where state = 'QUEUED';

create table job_events (
    id         bigint       generated always as identity primary key,
    job_id     uuid         not null references jobs (id) on delete cascade,
    at         timestamptz  not null,
    from_state varchar(16),
    to_state   varchar(16)  not null,
    reason     varchar(64)  not null,
    message    text         not null,
    actor      varchar(100) not null,
    attempt    integer      not null
);

create index job_events_by_job on job_events (job_id, id);
