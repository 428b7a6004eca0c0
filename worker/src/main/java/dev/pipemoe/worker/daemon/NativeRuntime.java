package dev.pipemoe.worker.daemon;

import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import java.util.Optional;

/**
 * Whether this machine can run jobs: the native runtime loads and opens a fabric. Checked once at
 * start; a worker that cannot run anything stays unregistered, with readiness down and the reason.
 */
public final class NativeRuntime {
  private final Fabric.Factory fabrics;
  private Optional<String> problem;

  public NativeRuntime(Fabric.Factory fabrics) {
    this.fabrics = fabrics;
  }

  /** Empty when a one-rank fabric opens and closes; else why not. */
  public synchronized Optional<String> problem() {
    if (problem == null) {
      try (Fabric f = fabrics.open(1, LinkModel.unmodelled())) {
        problem = f.worldSize() == 1 ? Optional.empty()
            : Optional.of("a one-rank fabric has " + f.worldSize() + " ranks");
      } catch (RuntimeException | LinkageError e) {
        problem = Optional.of(e.getMessage() != null ? e.getMessage() : e.toString());
      }
    }
    return problem;
  }
}
