package dev.pipemoe.nativebridge;

import dev.pipemoe.engine.device.Stream;

/** A stream handle, or (handle 0) a communicator's queue, which appears in timelines only. */
record NativeStream(String name, long handle, int queueId) implements Stream {}
