package dev.pipemoe.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;

/** Plain HTTP with JSON bodies, as curl would do it; no client library of ours. */
final class Http {
  static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  /** An answer: status, raw body, and the body as JSON (missing when it is not JSON). */
  record Response(int status, String body) {
    JsonNode json() {
      try {
        return body.isBlank() ? MissingNode.getInstance() : JSON.readTree(body);
      } catch (RuntimeException e) {
        return MissingNode.getInstance();
      }
    }

    @Override
    public String toString() {
      return status + " " + (body.length() > 2000 ? body.substring(0, 2000) + "..." : body);
    }
  }

  private Http() {}

  static Response get(String url, String token) {
    return send(request(url, token).GET());
  }

  static Response post(String url, String token, String json) {
    return send(request(url, token).header("Content-Type", "application/json")
        .POST(json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)));
  }

  private static HttpRequest.Builder request(String url, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
    return token == null ? b : b.header("Authorization", "Bearer " + token);
  }

  private static Response send(HttpRequest.Builder b) {
    try {
      HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
