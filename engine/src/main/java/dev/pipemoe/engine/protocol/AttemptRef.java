package dev.pipemoe.engine.protocol;

/** One attempt of one job: the unit a worker runs and the service leases. */
public record AttemptRef(String jobId, int attempt) {}
