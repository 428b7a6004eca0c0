package dev.pipemoe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Follows a job's live stream (docs/service.md §5.4) to its end: state changes as lines, steps as
 * a progress bar on a terminal (or a line every 5 % of the steps elsewhere), then the summary. A
 * dropped connection, or a service that restarts, is resumed from the last event seen
 * (Last-Event-ID), so nothing is shown twice or missed; after {@code giveUpAfter} without a
 * connection it stops. With JSON output every event is one JSON line, and the summary the last.
 */
final class Watch {
  private static final Set<Integer> RETRYABLE = Set.of(0, 502, 503, 504);

  private final Api api;
  private final PrintWriter out;
  private final Output output;
  private final Duration giveUpAfter;
  private Progress progress;
  private String cursor;
  private String endState;
  private boolean barShown;
  private int lastPlainStep = -1;
  private boolean resuming;
  private long lastContact;  // System.nanoTime() of the last event or connection: give-up counts from there

  Watch(Api api, PrintWriter out, Output output, Duration giveUpAfter) {
    this.api = api;
    this.out = out;
    this.output = output;
    this.giveUpAfter = giveUpAfter;
  }

  /** Watches to the end; the exit code: 0 when the job SUCCEEDED, 5 when it ended otherwise. */
  int run(String id) {
    JsonNode job = api.get(Api.jobPath(id));
    JsonNode training = job.path("effective").path("training");
    progress = new Progress(training.path("steps").asInt(), training.path("warmupSteps").asInt());
    if (!output.json()) {
      out.println("watching " + job.path("name").asString() + " (" + id + "), " + training.path("steps").asInt()
          + " steps on " + job.path("effective").path("resources").path("devices").asInt() + " "
          + job.path("effective").path("resources").path("deviceType").asString() + " devices; Ctrl-C stops watching, not the job");
      out.flush();
    }
    lastContact = System.nanoTime();
    long pauseMillis = 250;
    while (endState == null) {
      try {
        api.stream(Api.jobPath(id) + "/stream", cursor, this::onEvent);
        lastContact = System.nanoTime();
        pauseMillis = 250;
        // the response ended without `end`: the service's stream-timeout; go on where it stopped
      } catch (IOException | Api.Failure e) {
        if (e instanceof Api.Failure f && !RETRYABLE.contains(f.status)) {
          throw f;
        }
        if (System.nanoTime() - lastContact > giveUpAfter.toNanos()) {
          throw new Api.Failure(0, MissingNode.getInstance(),
              "lost the stream of " + id + " and could not resume it for " + giveUpAfter.toSeconds() + " s: " + e.getMessage());
        }
        if (!resuming) {  // once per outage, not once per try
          note("connection lost (" + reason(e) + "); resuming after event " + (cursor == null ? "(none)" : cursor));
          resuming = true;
        }
        sleep(pauseMillis);
        pauseMillis = Math.min(5000, pauseMillis * 2);
      }
    }
    JsonNode summary = api.get(Api.jobPath(id) + "/summary");
    if (output.json()) {
      ObjectNode line = Api.JSON.createObjectNode();
      line.put("event", "summary");
      line.set("data", summary);
      out.println(line);
    } else {
      endBar();
      out.print(Views.summary(job, summary));
    }
    out.flush();
    return "SUCCEEDED".equals(endState) ? Main.OK : Main.JOB_NOT_SUCCEEDED;
  }

  private boolean onEvent(Api.Event e) {
    lastContact = System.nanoTime();
    if (resuming) {
      resuming = false;
      note("resumed after event " + cursor);
    }
    cursor = e.id() != null ? e.id() : cursor;
    JsonNode data = e.json();
    if (output.json()) {
      ObjectNode line = Api.JSON.createObjectNode();
      line.put("event", e.name());
      line.put("id", e.id());
      line.set("data", data);
      out.println(line);
    }
    switch (e.name()) {
      case "state" -> {
        if (!output.json()) {
          note(Views.event(data));
        }
      }
      case "step" -> {
        progress.step(data);
        if (!output.json()) {
          showProgress();
        }
      }
      case "end" -> endState = data.path("state").asString();
      default -> { }
    }
    out.flush();
    return endState == null;
  }

  private void showProgress() {
    if (output.terminal()) {
      out.print("\r" + progress.bar(output.columns(), output.unicode()) + "\033[K");
      barShown = true;
    } else {
      int step = progress.stepsDone();
      int stride = Math.max(1, progress.total() / 20);
      if (lastPlainStep < 0 || step < lastPlainStep || step - lastPlainStep >= stride || step == progress.total()) {
        out.println(progress.line());
        lastPlainStep = step;
      }
    }
  }

  /** A line above the bar: the bar is cleared, the line printed, the bar drawn again below it. */
  private void note(String line) {
    if (output.json()) {
      return;
    }
    if (barShown) {
      out.print("\r\033[K");
    }
    out.println(line);
    if (barShown) {
      out.print(progress.bar(output.columns(), output.unicode()));
    }
    out.flush();
  }

  private void endBar() {
    if (barShown) {
      out.println();
      barShown = false;
    }
  }

  private static String reason(Exception e) {
    if (e instanceof ConnectException) {
      return "connection refused";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
