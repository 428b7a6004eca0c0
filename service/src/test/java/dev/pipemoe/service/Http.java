package dev.pipemoe.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Real HTTP against the started service, with the JDK's client: what a user's client sends, nothing
 * mocked. Every response is checked against the service's OpenAPI document ({@link Contract}).
 */
public final class Http {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private final String base;

  public Http(int port) {
    this.base = "http://localhost:" + port;
  }

  /** A request being built: method, path, token, headers, body. */
  public final class Call {
    private final String method;
    private final String path;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private BodyPublisher body = BodyPublishers.noBody();

    private Call(String method, String path) {
      this.method = method;
      this.path = path;
    }

    public Call token(String token) {
      return token == null ? this : header("Authorization", "Bearer " + token);
    }

    public Call header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    public Call json(Object body) {
      return body(body instanceof String s ? s : JSON.writeValueAsString(body), "application/json");
    }

    public Call yaml(String body) {
      return body(body, "application/yaml");
    }

    public Call body(String text, String contentType) {
      return body(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), contentType);
    }

    public Call body(byte[] bytes, String contentType) {
      if (contentType != null) {
        headers.put("Content-Type", contentType);
      }
      this.body = BodyPublishers.ofByteArray(bytes);
      return this;
    }

    /** A body of unknown length (chunked), as a streaming client sends it. */
    public Call chunked(byte[] bytes, String contentType) {
      headers.put("Content-Type", contentType);
      this.body = BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(bytes));
      return this;
    }

    public Response send() {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
          .timeout(Duration.ofSeconds(30)).method(method, body);
      headers.forEach(request::header);
      try {
        HttpResponse<String> sent = CLIENT.send(request.build(), BodyHandlers.ofString());
        Response response = new Response(sent.statusCode(), sent.headers(), sent.body());
        Contract.check(base, method, path, response);
        return response;
      } catch (IOException e) {
        throw new UncheckedIOException(method + " " + path, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  public Call get(String path) {
    return new Call("GET", path);
  }

  public Call post(String path) {
    return new Call("POST", path);
  }

  public Call method(String method, String path) {
    return new Call(method, path);
  }

  /** A response; {@link #json()} parses the body. */
  public record Response(int status, java.net.http.HttpHeaders headers, String body) {

    public JsonNode json() {
      return JSON.readTree(body);
    }

    public String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    public String contentType() {
      return header("Content-Type");
    }

    @Override
    public String toString() {
      return status + " " + (body.length() > 2000 ? body.substring(0, 2000) + "..." : body);
    }
  }

  public static JsonMapper mapper() {
    return JSON;
  }
}
