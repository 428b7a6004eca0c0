package dev.pipemoe.service;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A server-sent events client over the JDK's HttpClient, for tests: it parses the stream into
 * events (id, event name, data) as they arrive, keeps comments apart, and notes when the server
 * completed the response.
 */
public final class SseClient implements AutoCloseable {

  public record Event(String id, String name, String data) {}

  private static final Event END = new Event(null, null, null);
  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final List<String> comments = new CopyOnWriteArrayList<>();
  private final HttpResponse<Stream<String>> response;
  private volatile boolean ended;

  private SseClient(HttpResponse<Stream<String>> response) {
    this.response = response;
    Thread.ofVirtual().start(this::read);
  }

  public static SseClient open(int port, String path, String token, String lastEventId) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
        .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream").GET();
    if (lastEventId != null) {
      request.header("Last-Event-ID", lastEventId);
    }
    return new SseClient(CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofLines()));
  }

  public int status() {
    return response.statusCode();
  }

  public String contentType() {
    return response.headers().firstValue("Content-Type").orElse(null);
  }

  /** The next event, or an AssertionError if none came within {@code timeout} or the stream ended. */
  public Event next(Duration timeout) throws InterruptedException {
    Event e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (e == null) {
      throw new AssertionError("no event within " + timeout);
    }
    if (e == END) {
      events.add(END);
      throw new AssertionError("the stream ended");
    }
    return e;
  }

  /** True once the server completed the response (after every event was read). */
  public boolean awaitEnd(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!ended && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return ended;
  }

  public List<String> comments() {
    return comments;
  }

  private void read() {
    String id = null;
    String name = null;
    StringBuilder data = new StringBuilder();
    try (Stream<String> lines = response.body()) {
      for (String line : (Iterable<String>) lines::iterator) {
        if (line.isEmpty()) {
          if (name != null || !data.isEmpty()) {
            events.add(new Event(id, name == null ? "message" : name, data.toString()));
          }
          name = null;
          data.setLength(0);
        } else if (line.startsWith(":")) {
          comments.add(line.substring(1).strip());
        } else if (line.startsWith("id:")) {
          id = line.substring(3).strip();
        } else if (line.startsWith("event:")) {
          name = line.substring(6).strip();
        } else if (line.startsWith("data:")) {
          data.append(data.isEmpty() ? "" : "\n").append(line.substring(5).stripLeading());
        }
      }
    } catch (RuntimeException e) {
      // closed by us
    } finally {
      ended = true;
      events.add(END);
    }
  }

  @Override
  public void close() {
    try {
      response.body().close();
    } catch (RuntimeException e) {
      // already closed
    }
  }
}
