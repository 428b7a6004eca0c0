package dev.pipemoe.service.metrics;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.metrics.StepSplit;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.system.Problems;
import dev.pipemoe.service.system.Problems.FieldError;
import dev.pipemoe.service.workers.AttemptAccess;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Stores a worker's metric batch: checks that the attempt is the worker's and every record makes
 * sense, inserts the batch in one statement, and answers only after the commit, so that
 * {@code acknowledged: true} really means durable (the worker deletes its spool on it).
 */
@Service
class MetricIngest {

  /** Stops a listing of every bad record in a 10,000-record batch; the first ones tell the story. */
  private static final int MAX_ERRORS = 20;

  private final AttemptAccess attempts;
  private final StepMetricsRepository repository;
  private final MetricsProperties properties;
  private final TransactionTemplate tx;
  private final ApplicationEventPublisher notices;

  MetricIngest(AttemptAccess attempts, StepMetricsRepository repository, MetricsProperties properties,
      PlatformTransactionManager transactions, ApplicationEventPublisher notices) {
    this.attempts = attempts;
    this.repository = repository;
    this.properties = properties;
    this.tx = new TransactionTemplate(transactions);
    this.notices = notices;
  }

  /** Published after each stored batch, for the ingest counters. */
  record Ingested(int stored, int duplicates, long nanos) {}

  MetricBatch.Response ingest(Caller caller, UUID workerId, MetricBatch.Request batch) {
    List<StepMetrics> records = batch.records() == null ? List.of() : batch.records();
    if (records.size() > properties.maxBatchRecords()) {
      throw Problems.malformed("a batch holds at most " + properties.maxBatchRecords() + " records, this one "
          + records.size() + "; send it in parts", List.of(new FieldError("/records", "BODY-VALUE",
          "at most " + properties.maxBatchRecords() + " records per batch (pipemoe.metrics.max-batch-records)")));
    }
    AttemptAccess.Writable attempt = attempts.forMetrics(caller, workerId, batch.jobId(), batch.attempt());
    validate(records, attempt.ranks());
    if (records.isEmpty()) {
      return new MetricBatch.Response(0, 0, true);
    }
    long started = System.nanoTime();
    Integer stored = tx.execute(status -> repository.insert(attempt.jobId(), attempt.attempt(), records));
    // the transaction has committed here: only now may the worker forget these records
    notices.publishEvent(new Ingested(stored, records.size() - stored, System.nanoTime() - started));
    return new MetricBatch.Response(stored, records.size() - stored, true);
  }

  private static void validate(List<StepMetrics> records, int ranks) {
    List<FieldError> errors = new ArrayList<>();
    for (int i = 0; i < records.size() && errors.size() < MAX_ERRORS; i++) {
      StepMetrics r = records.get(i);
      String at = "/records/" + i;
      if (r == null) {
        errors.add(new FieldError(at, "BODY-VALUE", "a record cannot be null"));
        continue;
      }
      if (r.step() < 0) {
        errors.add(new FieldError(at + "/step", "BODY-VALUE", "step must be >= 0, was " + r.step()));
      }
      if (r.rank() < 0 || r.rank() >= ranks) {
        errors.add(new FieldError(at + "/rank", "BODY-VALUE", "rank must be from 0 to " + (ranks - 1)
            + " (the attempt has " + ranks + " ranks), was " + r.rank()));
      }
      double[] nonNegative = {r.stepSeconds(), r.computeBusySeconds(), r.epBusySeconds(), r.tpBusySeconds(),
          r.otherCommBusySeconds(), r.exposedCommSeconds(), r.tflopsPerDevice(), r.hardwareTflopsPerDevice(),
          r.tokensPerSecond()};
      for (double v : nonNegative) {
        if (!(v >= 0) || Double.isInfinite(v)) {
          errors.add(new FieldError(at, "BODY-VALUE", "times, FLOP/s and tokens/s must be finite and >= 0"));
          break;
        }
      }
      if (r.split() != null) {
        for (StepSplit.Part p : StepSplit.Part.values()) {
          double v = p.of(r.split());
          if (!(v >= 0) || Double.isInfinite(v)) {
            errors.add(new FieldError(at + "/split", "BODY-VALUE", "the split's parts must be finite and >= 0, "
                + p.label() + " was " + v));
            break;
          }
        }
      }
      if (r.droppedTokens() < 0) {
        errors.add(new FieldError(at + "/droppedTokens", "BODY-VALUE", "droppedTokens must be >= 0"));
      }
    }
    if (!errors.isEmpty()) {
      throw Problems.malformed("the batch has invalid records (nothing was stored); errors lists the first "
          + errors.size(), errors);
    }
  }
}
