package dev.pipemoe.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;

/**
 * The service's REST API (docs/service.md) over the JDK's HTTP client: every request the command
 * line makes goes through here, so another client (a generated one) would replace this class only.
 * A status the call did not expect throws {@link Failure}, carrying the problem details.
 */
final class Api {
  static final ObjectMapper JSON = JsonMapper.builder().build();

  /** An answer the command did not want: its status and problem details (RFC 9457), or a transport error. */
  static final class Failure extends RuntimeException {
    final int status;
    final JsonNode problem;

    Failure(int status, JsonNode problem, String message) {
      super(message);
      this.status = status;
      this.problem = problem;
    }
  }

  /** One server-sent event; {@code id} is the stream's cursor (docs/service.md §5.4). */
  record Event(String name, String id, String data) {
    JsonNode json() {
      return JSON.readTree(data);
    }
  }

  private final String baseUrl;
  private final String token;
  private final HttpClient client;

  Api(String baseUrl, String token) {
    this.baseUrl = baseUrl.replaceAll("/+$", "");
    this.token = token;
    this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** A path segment from user input (a job id): encoded, so that it stays one segment. */
  /** The path of job {@code id}; its sub-resources append to it ("/summary", "/events", ...). */
  static String jobPath(String id) {
    return "/api/v1/jobs/" + segment(id);
  }

  static String segment(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  JsonNode get(String path) {
    return send(request(path).GET(), 200);
  }

  /** POST with a body of the content type (null: none) and extra headers; the expected status. */
  JsonNode post(String path, String contentType, String body, Map<String, String> headers, int expected) {
    HttpRequest.Builder b = request(path);
    headers.forEach(b::header);
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    b.POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return send(b, expected);
  }

  /**
   * Reads {@code path} as a stream of server-sent events, from after {@code lastEventId} (null: from
   * the start), handing each to {@code onEvent} until it answers false or the response ends. An
   * error status throws {@link Failure}; a dropped connection throws IOException, so that the
   * caller can resume from the last id it saw.
   */
  void stream(String path, String lastEventId, Predicate<Event> onEvent) throws IOException {
    HttpRequest.Builder b = request(path).header("Accept", "text/event-stream").GET();
    if (lastEventId != null) {
      b.header("Last-Event-ID", lastEventId);
    }
    HttpResponse<InputStream> r;
    try {
      r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (r.statusCode() != 200) {
      String body;
      try (InputStream in = r.body()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      throw failure("GET " + path, r.statusCode(), body);
    }
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      SseParser parser = new SseParser();
      String line;
      while ((line = in.readLine()) != null) {
        Event e = parser.line(line);
        if (e != null && !onEvent.test(e)) {
          return;
        }
      }
    }
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).header("Accept", "application/json");
    return token == null ? b : b.header("Authorization", "Bearer " + token);
  }

  private JsonNode send(HttpRequest.Builder b, int expected) {
    HttpRequest request = b.timeout(Duration.ofSeconds(60)).build();
    String what = request.method() + " " + request.uri().getRawPath();
    HttpResponse<String> r;
    try {
      r = client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new Failure(0, MissingNode.getInstance(), "cannot reach the service at " + baseUrl
          + " (connection refused): is it running? ./pipemoe up starts one; --url or PIPEMOE_URL points elsewhere");
    } catch (IOException e) {
      throw new Failure(0, MissingNode.getInstance(), what + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure(0, MissingNode.getInstance(), what + ": interrupted");
    }
    if (r.statusCode() != expected) {
      throw failure(what, r.statusCode(), r.body());
    }
    return parse(r.body());
  }

  private static Failure failure(String what, int status, String body) {
    JsonNode problem = parse(body);
    return new Failure(status, problem, what + ": " + status);
  }

  private static JsonNode parse(String body) {
    if (body == null || body.isBlank()) {
      return MissingNode.getInstance();
    }
    try {
      return JSON.readTree(body);
    } catch (RuntimeException notJson) {
      return JSON.getNodeFactory().stringNode(body);
    }
  }
}
