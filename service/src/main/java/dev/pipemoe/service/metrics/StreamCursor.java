package dev.pipemoe.service.metrics;

import dev.pipemoe.service.system.Problems;

/**
 * Where a live stream stands, and the {@code id:} of every event it sends: the last job event sent
 * (by its id) and the last step sent (attempt, step). A client that reconnects with this as
 * {@code Last-Event-ID} gets exactly what came after it. Written {@code <eventId>:<attempt>:<step>};
 * a new stream starts at {@code 0:1:-1} (everything).
 */
record StreamCursor(long eventId, int attempt, int step) {

  static final StreamCursor START = new StreamCursor(0, 1, -1);

  static StreamCursor parse(String lastEventId) {
    if (lastEventId == null || lastEventId.isBlank()) {
      return START;
    }
    String[] parts = lastEventId.strip().split(":");
    try {
      if (parts.length == 3) {
        StreamCursor cursor = new StreamCursor(Long.parseLong(parts[0]), Integer.parseInt(parts[1]),
            Integer.parseInt(parts[2]));
        if (cursor.eventId >= 0 && cursor.attempt >= 1 && cursor.step >= -1) {
          return cursor;
        }
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw Problems.invalidParameter("Last-Event-ID", "Last-Event-ID must be an id this stream sent"
        + " (<eventId>:<attempt>:<step>), was '" + lastEventId + "'");
  }

  StreamCursor afterEvent(long id) {
    return new StreamCursor(id, attempt, step);
  }

  StreamCursor afterStep(int stepAttempt, int stepNumber) {
    return new StreamCursor(eventId, stepAttempt, stepNumber);
  }

  StreamCursor nextAttempt() {
    return new StreamCursor(eventId, attempt + 1, -1);
  }

  String id() {
    return eventId + ":" + attempt + ":" + step;
  }
}
