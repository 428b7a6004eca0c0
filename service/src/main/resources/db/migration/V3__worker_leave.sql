-- A worker that stops says so (POST /api/v1/workers/{id}/leave): its open lease polls, on any
-- replica, answer empty instead of leasing a job to a process that is gone. Registering again
-- clears it.
alter table workers add column left_at timestamptz;
