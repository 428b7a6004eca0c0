package dev.pipemoe.worker.spool;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.worker.client.ServiceException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The service's metric ingest as docs/worker-protocol.md defines it, in memory: stores each
 * (job, attempt, step, rank) once, answers stored/duplicates/acknowledged. Tests switch it into
 * failure modes: unreachable (nothing stored), answer lost (stored, but the worker never hears),
 * refusing an attempt (409).
 */
final class RecordingService implements Shipper.Sender {
  /** What the next calls do. */
  enum Mode { OK, UNREACHABLE, ANSWER_LOST, NOT_ACKNOWLEDGED }

  record Key(String jobId, int attempt, int step, int rank) {}

  final Map<Key, StepMetrics> stored = new LinkedHashMap<>();
  /** Keys whose acknowledgement reached the worker: they must never be sent again. */
  final Set<Key> acknowledgedToWorker = new HashSet<>();
  final List<Key> resentAfterAck = new ArrayList<>();
  final Set<String> refusedJobs = new HashSet<>();
  Mode mode = Mode.OK;
  int calls;
  int duplicates;

  @Override
  public synchronized MetricBatch.Response send(MetricBatch.Request batch)
      throws ServiceException {
    calls++;
    if (refusedJobs.contains(batch.jobId())) {
      throw new ServiceException(ServiceException.Kind.CONFLICT, 409, "not this worker's", null);
    }
    if (mode == Mode.UNREACHABLE) {
      throw new ServiceException(ServiceException.Kind.RETRYABLE, 0, "connection refused", null);
    }
    int stored = 0;
    int dups = 0;
    List<Key> keys = new ArrayList<>();
    for (StepMetrics m : batch.records()) {
      Key k = new Key(batch.jobId(), batch.attempt(), m.step(), m.rank());
      keys.add(k);
      if (acknowledgedToWorker.contains(k)) {
        resentAfterAck.add(k);
      }
      if (this.stored.putIfAbsent(k, m) == null) {
        stored++;
      } else {
        dups++;
      }
    }
    duplicates += dups;
    switch (mode) {
      case ANSWER_LOST -> throw new ServiceException(ServiceException.Kind.RETRYABLE, 0,
          "connection reset while reading the answer", null);
      case NOT_ACKNOWLEDGED -> {
        return new MetricBatch.Response(stored, dups, false);
      }
      default -> {
        acknowledgedToWorker.addAll(keys);
        return new MetricBatch.Response(stored, dups, true);
      }
    }
  }
}
