package dev.pipemoe.engine.device;

/**
 * An ordered queue of device work, drained by one executor: ops enqueued on one stream run one
 * after another in enqueue order; ops on different streams may run at the same time unless events
 * order them.
 */
public interface Stream {
  /** A name unique on its device, used in timelines ("compute", "a2a-issue", "comm:ep"). */
  String name();
}
