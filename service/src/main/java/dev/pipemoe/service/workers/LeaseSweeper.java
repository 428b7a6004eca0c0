package dev.pipemoe.service.workers;

import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.SchedulingConfigurer;
import org.springframework.scheduling.config.ScheduledTaskRegistrar;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Expires leases that no heartbeat renewed: each pass marks up to a batch of them LOST and moves
 * their jobs on (retry, ATTEMPTS_EXHAUSTED, or CANCELLED when cancelling), in one transaction.
 * Every replica runs one; they skip each other's rows. A pass that fails is logged and reported,
 * and the next pass tries again: the loop never dies. Each pass publishes {@link
 * AttemptNotices.Swept}, which the metrics feature counts and tests wait on.
 */
@Configuration(proxyBeanMethods = false)
class LeaseSweeper implements SchedulingConfigurer {

  private static final Logger log = LoggerFactory.getLogger(LeaseSweeper.class);

  private final LeaseRepository repository;
  private final AttemptEndings endings;
  private final SchedulerProperties properties;
  private final InstantSource clock;
  private final TransactionTemplate tx;
  private final ApplicationEventPublisher notices;

  LeaseSweeper(LeaseRepository repository, AttemptEndings endings, SchedulerProperties properties,
      InstantSource clock, PlatformTransactionManager transactions, ApplicationEventPublisher notices) {
    this.repository = repository;
    this.endings = endings;
    this.properties = properties;
    this.clock = clock;
    this.tx = new TransactionTemplate(transactions);
    this.notices = notices;
  }

  @Override
  public void configureTasks(ScheduledTaskRegistrar registrar) {
    registrar.addFixedDelayTask(this::sweep, properties.sweepInterval());
  }

  /** Passes until one expires less than a full batch; never throws. */
  void sweep() {
    int expired;
    do {
      try {
        expired = tx.execute(status -> pass());
        notices.publishEvent(new AttemptNotices.Swept(expired, false));
      } catch (RuntimeException e) {
        log.error("lease sweep failed; the next pass tries again", e);
        notices.publishEvent(new AttemptNotices.Swept(0, true));
        return;
      }
    } while (expired == properties.sweepBatch());
  }

  private int pass() {
    Instant now = clock.instant();
    List<LeaseRepository.AttemptRow> lost = repository.expireLeases(now, properties.sweepBatch());
    for (LeaseRepository.AttemptRow attempt : lost) {
      log.warn("lease of attempt {} of job {} on worker {} expired", attempt.attempt(), attempt.jobId(),
          attempt.workerName());
      endings.apply(attempt, "LEASE_EXPIRED", "worker " + attempt.workerName()
          + " renewed no lease for " + properties.leaseTimeout().toSeconds() + " s", null, now);
    }
    return lost.size();
  }
}
