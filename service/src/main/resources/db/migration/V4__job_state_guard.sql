-- One rule for every writer of jobs.state. Two kinds of code change a job's state: the Job entity
-- (submit, cancel) and the scheduler's statements in workers/LeaseRepository (lease, attempt ends).
-- Whichever writes, the database now refuses
--   1. a move that JobState does not allow (checked when the row is updated), and
--   2. a new job or a state change without its job_events row, written in the same transaction
--      with the same from/to, attempt and time (checked at commit, so the event may come after).
-- JobState is the source of the allowed moves; job_transitions copies it for the database, and
-- JobStateGuardTest fails when the two differ.

create table job_transitions (
    from_state varchar(16) not null,
    to_state   varchar(16) not null,
    primary key (from_state, to_state)
);

insert into job_transitions (from_state, to_state) values
    ('QUEUED', 'RUNNING'), ('QUEUED', 'CANCELLED'), ('QUEUED', 'FAILED'),
    ('RUNNING', 'SUCCEEDED'), ('RUNNING', 'FAILED'), ('RUNNING', 'CANCELLING'), ('RUNNING', 'QUEUED'),
    ('CANCELLING', 'CANCELLED'), ('CANCELLING', 'SUCCEEDED'), ('CANCELLING', 'FAILED');

-- search_path from the migration's: the functions find this schema's tables whatever the caller's
create function jobs_refuse_illegal_move() returns trigger language plpgsql
set search_path from current as $$
begin
    if not exists (select 1 from job_transitions where from_state = old.state and to_state = new.state) then
        raise exception 'job % cannot go from % to %', new.id, old.state, new.state
            using errcode = 'check_violation', hint = 'JobState lists the allowed moves';
    end if;
    return new;
end $$;

create trigger jobs_legal_move before update of state on jobs
    for each row when (old.state is distinct from new.state)
    execute function jobs_refuse_illegal_move();

-- The event of a change: same job, from (null for a new job), to, attempt, and at = the job's
-- updated_at (every writer stamps both with one clock reading).
create function jobs_refuse_unrecorded_move() returns trigger language plpgsql
set search_path from current as $$
declare
    was varchar(16) := case when tg_op = 'INSERT' then null else old.state end;
begin
    if not exists (select 1 from job_events e
                   where e.job_id = new.id and e.from_state is not distinct from was
                     and e.to_state = new.state and e.attempt = new.attempt and e.at = new.updated_at) then
        raise exception 'job % went from % to % (attempt %) without its job event', new.id,
            coalesce(was, 'nothing'), new.state, new.attempt
            using errcode = 'check_violation', hint = 'store the JobEvent in the same transaction';
    end if;
    return null;
end $$;

create constraint trigger jobs_recorded_insert after insert on jobs
    deferrable initially deferred
    for each row execute function jobs_refuse_unrecorded_move();

create constraint trigger jobs_recorded_move after update of state on jobs
    deferrable initially deferred
    for each row when (old.state is distinct from new.state)
    execute function jobs_refuse_unrecorded_move();
