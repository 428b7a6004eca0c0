package dev.pipemoe.engine.train;

/** Receives every rank's steps as they finish; called from rank threads, so it must be thread-safe. */
@FunctionalInterface
public interface StepListener {
  void onStep(RankStep step);
}
