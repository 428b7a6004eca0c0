package dev.pipemoe.service.jobs;

/**
 * Explains a queued job's wait. Answered by the scheduler, which knows the fleet; declared here so
 * that the jobs API does not depend on it.
 */
public interface WaitingReasons {

  Waiting of(Job queued);
}
