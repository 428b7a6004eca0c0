package dev.pipemoe.cli;

/**
 * Server-sent events, line by line, as the WHATWG event-stream format defines them: {@code event},
 * {@code id} and {@code data} fields (one optional space after the colon), comments, and a blank
 * line that dispatches. Fields of one event may come in any order; {@code id} is kept for the
 * events after it, as a browser does.
 */
final class SseParser {
  private String name = "";
  private String lastId;
  private StringBuilder data;

  /** Feeds one line (without its end); returns the event a blank line completes, else null. */
  Api.Event line(String line) {
    if (line.isEmpty()) {
      Api.Event e = data == null ? null : new Api.Event(name.isEmpty() ? "message" : name, lastId, data.toString());
      name = "";
      data = null;
      return e;
    }
    if (line.startsWith(":")) {
      return null;  // a comment: the service's keep-alive
    }
    int colon = line.indexOf(':');
    String field = colon < 0 ? line : line.substring(0, colon);
    String value = colon < 0 ? "" : line.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "event" -> name = value;
      case "id" -> lastId = value;
      case "data" -> {
        if (data == null) {
          data = new StringBuilder(value);
        } else {
          data.append('\n').append(value);
        }
      }
      default -> { }  // retry and unknown fields: nothing to do
    }
    return null;
  }
}
