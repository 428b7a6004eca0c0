package dev.pipemoe.engine.protocol;

/**
 * {@code POST /api/v1/workers/{workerId}/attempts/{jobId}/{attempt}/status}: the attempt's state
 * changed. The service answers 409 when the attempt is no longer this worker's (then the worker
 * stops it and reports nothing more).
 *
 * @param state STARTED, SUCCEEDED, FAILED or CANCELLED
 * @param reason a machine-readable code for FAILED (ENGINE_ERROR, INVALID_SPEC, DEVICE_ERROR,
 *     SHUTDOWN) and CANCELLED (CANCEL_REQUESTED)
 * @param summary the run's summary, with SUCCEEDED (and, as far as it got, CANCELLED); else null
 */
public record AttemptStatus(State state, String reason, String message, Summary summary) {

  public enum State { STARTED, SUCCEEDED, FAILED, CANCELLED }

  /**
   * What a finished run measured, over its measured steps (after warm-up).
   *
   * @param tflopsPerDevice mean model TFLOP/s per device
   */
  public record Summary(int stepsCompleted, int measuredSteps, double meanStepSeconds,
      double tflopsPerDevice, double hardwareTflopsPerDevice, double exposedCommShare,
      double tokensPerSecond, double finalLoss, long droppedTokens) {}
}
