package dev.pipemoe.engine.device;

/**
 * A marker in a stream, with CUDA semantics: {@link Device#record} captures all work enqueued so
 * far on a stream; {@link Device#waitEvent} makes later work of another stream wait for that
 * captured work; recording again re-arms the event. Waiting on an event never recorded is a no-op.
 */
public interface Event extends AutoCloseable {
  @Override
  void close();
}
