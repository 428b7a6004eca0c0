package dev.pipemoe.service.workers;

import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
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
 *
 * <p>Leases are judged only after a grace period ({@link LeaseGrace}): from the moment the web
 * server is ready, and again after a pause of the sweeper, the workers get a whole lease timeout
 * to check in, so a restart of the service (or of its database) loses no attempt.
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
  private final LeaseGrace grace;

  LeaseSweeper(LeaseRepository repository, AttemptEndings endings, SchedulerProperties properties,
      InstantSource clock, PlatformTransactionManager transactions, ApplicationEventPublisher notices) {
    this.repository = repository;
    this.endings = endings;
    this.properties = properties;
    this.clock = clock;
    this.tx = new TransactionTemplate(transactions);
    this.notices = notices;
    this.grace = new LeaseGrace(properties.leaseTimeout(),
        properties.sweepInterval().plus(properties.heartbeatInterval()));
  }

  /** The web server takes heartbeats from now on: the first grace period starts. */
  @EventListener(ApplicationReadyEvent.class)
  void ready() {
    grace.ready(clock.instant(), System.nanoTime());
    log.info("leases are judged from {} on: the workers get a lease timeout ({}) to check in first",
        grace.judgeFrom(), properties.leaseTimeout());
  }

  @Override
  public void configureTasks(ScheduledTaskRegistrar registrar) {
    registrar.addFixedDelayTask(this::sweep, properties.sweepInterval());
  }

  /** Passes until one expires less than a full batch; never throws. */
  void sweep() {
    Instant before = grace.judgeFrom();
    boolean judge = grace.mayJudge(clock.instant(), System.nanoTime());
    if (before != null && !before.equals(grace.judgeFrom())) {
      log.warn("the lease sweeper was paused for longer than {}; leases are judged again from {} on",
          properties.sweepInterval().plus(properties.heartbeatInterval()), grace.judgeFrom());
    }
    int expired;
    do {
      try {
        // in a grace period a pass only checks that the database answers: an outage of it is a pause
        expired = judge ? tx.execute(status -> pass()) : repository.ping();
        grace.passed(System.nanoTime());
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
