package dev.pipemoe.worker.spool;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.worker.client.ServiceException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The shipper's end of the wire: records every batch the shipper sent and answers it the way the
 * test chose (acknowledged, unreachable, answer lost, not acknowledged, 409). It stores nothing and
 * models nothing of the service: these tests check the shipper's bookkeeping (what it sends, what it
 * sends again, what it may forget); what the real service stores is the end-to-end tests' job
 * (src-test, dev.pipemoe.e2e).
 */
final class SentBatches implements Shipper.Sender {
  /** How the next calls end. */
  enum Answer {
    ACKNOWLEDGED,
    /** The batch never left: connection refused. */
    UNREACHABLE,
    /** The batch arrived, the answer did not: connection reset while reading it. */
    ANSWER_LOST,
    /** The batch arrived and was answered {@code acknowledged: false}. */
    NOT_ACKNOWLEDGED
  }

  record Key(String jobId, int attempt, int step, int rank) {}

  /** Every record that arrived, once per arrival. */
  final List<Key> arrived = new ArrayList<>();
  /** Records whose acknowledgement reached the shipper: it may forget them. */
  final Set<Key> acknowledged = new HashSet<>();
  /** Records that arrived again after their acknowledgement had reached the shipper. */
  final List<Key> sentAgainAfterAck = new ArrayList<>();
  /** Jobs whose batches are answered 409 (the attempt is not this worker's). */
  final Set<String> refusedJobs = new HashSet<>();
  Answer answer = Answer.ACKNOWLEDGED;
  int calls;

  @Override
  public synchronized MetricBatch.Response send(MetricBatch.Request batch) throws ServiceException {
    calls++;
    if (refusedJobs.contains(batch.jobId())) {
      throw new ServiceException(ServiceException.Kind.CONFLICT, 409, "not this worker's", null);
    }
    if (answer == Answer.UNREACHABLE) {
      throw new ServiceException(ServiceException.Kind.RETRYABLE, 0, "connection refused", null);
    }
    List<Key> keys = new ArrayList<>();
    for (StepMetrics m : batch.records()) {
      Key k = new Key(batch.jobId(), batch.attempt(), m.step(), m.rank());
      keys.add(k);
      if (acknowledged.contains(k)) {
        sentAgainAfterAck.add(k);
      }
    }
    arrived.addAll(keys);
    return switch (answer) {
      case ANSWER_LOST -> throw new ServiceException(ServiceException.Kind.RETRYABLE, 0,
          "connection reset while reading the answer", null);
      case NOT_ACKNOWLEDGED -> new MetricBatch.Response(0, keys.size(), false);
      default -> {
        acknowledged.addAll(keys);
        yield new MetricBatch.Response(keys.size(), 0, true);
      }
    };
  }

  /** Distinct records that arrived at least once. */
  synchronized Set<Key> arrivedOnce() {
    return new HashSet<>(arrived);
  }
}
