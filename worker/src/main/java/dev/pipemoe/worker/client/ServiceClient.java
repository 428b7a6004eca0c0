package dev.pipemoe.worker.client;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.engine.protocol.Heartbeat;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.engine.protocol.Register;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import tools.jackson.core.JacksonException;

/**
 * The worker protocol's calls (docs/worker-protocol.md), one method each: HTTP + JSON with the
 * bearer token, bodies and answers are the engine's protocol records. Every failure is a
 * {@link ServiceException} whose kind says what to do; retrying is the caller's business.
 *
 * <p>Thread-safe: the heartbeat, lease and shipping loops share one instance.
 */
public final class ServiceClient {
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration LEAVE_TIMEOUT = Duration.ofSeconds(3);

  private final URI base;
  private final String authorization;
  private final HttpClient http;

  public ServiceClient(URI serviceUrl, String token) {
    String url = serviceUrl.toString();
    this.base = URI.create(url.endsWith("/") ? url : url + "/");
    this.authorization = "Bearer " + token;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  public Register.Response register(Register.Request request) throws ServiceException {
    return call("api/v1/workers", request, Register.Response.class, CALL_TIMEOUT);
  }

  public Heartbeat.Response heartbeat(String workerId, Heartbeat.Request request)
      throws ServiceException {
    return call(worker(workerId) + "/heartbeat", request, Heartbeat.Response.class, CALL_TIMEOUT);
  }

  /**
   * Long-polls for work: an assignment, or empty when none came within {@code wait}. Interrupting
   * the calling thread abandons the poll (InterruptedException).
   */
  public Optional<Assignment> lease(String workerId, Duration wait)
      throws ServiceException, InterruptedException {
    HttpRequest request = request(worker(workerId) + "/lease?wait=" + wait, wait.plus(CALL_TIMEOUT))
        .POST(HttpRequest.BodyPublishers.noBody()).build();
    HttpResponse<byte[]> response = send(request);
    if (response.statusCode() == 204) {
      return Optional.empty();
    }
    return Optional.of(read(response, Assignment.class));
  }

  /**
   * Tells the service that this worker stops: its open lease poll answers empty instead of taking
   * a job to a process that is gone. Short timeout: a shutdown must not wait on an absent service.
   */
  public void leave(String workerId) throws ServiceException {
    call(worker(workerId) + "/leave", null, null, LEAVE_TIMEOUT);
  }

  public void status(String workerId, AttemptRef attempt, AttemptStatus status)
      throws ServiceException {
    call(worker(workerId) + "/attempts/" + encode(attempt.jobId()) + "/" + attempt.attempt()
        + "/status", status, null, CALL_TIMEOUT);
  }

  public MetricBatch.Response metrics(String workerId, MetricBatch.Request batch)
      throws ServiceException {
    return call(worker(workerId) + "/metrics", batch, MetricBatch.Response.class, CALL_TIMEOUT);
  }

  private <T> T call(String path, Object body, Class<T> answer, Duration timeout)
      throws ServiceException {
    HttpRequest request = (body == null ? request(path, timeout).POST(HttpRequest.BodyPublishers.noBody())
        : request(path, timeout).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(ProtocolJson.write(body)))).build();
    try {
      HttpResponse<byte[]> response = send(request);
      return answer == null ? null : read(response, answer);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ServiceException(ServiceException.Kind.RETRYABLE, 0,
          "interrupted: " + request.method() + " " + request.uri(), e);
    }
  }

  private HttpRequest.Builder request(String path, Duration timeout) {
    return HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
        .header("Authorization", authorization).header("Accept", "application/json");
  }

  private HttpResponse<byte[]> send(HttpRequest request)
      throws ServiceException, InterruptedException {
    HttpResponse<byte[]> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new ServiceException(ServiceException.Kind.RETRYABLE, 0, request.method() + " "
          + request.uri() + ": service not reached: " + e, e);
    }
    int status = response.statusCode();
    if (status / 100 != 2) {
      throw new ServiceException(ServiceException.kindOf(status), status, request.method() + " "
          + request.uri() + " answered " + status + ": " + excerpt(response.body()), null);
    }
    return response;
  }

  private static <T> T read(HttpResponse<byte[]> response, Class<T> type) throws ServiceException {
    try {
      return ProtocolJson.read(response.body(), type);
    } catch (JacksonException e) {
      throw new ServiceException(ServiceException.Kind.RETRYABLE, response.statusCode(),
          response.request().uri() + " answered a body that is no " + type.getSimpleName() + ": "
              + e.getOriginalMessage(), e);
    }
  }

  private static String worker(String workerId) {
    return "api/v1/workers/" + encode(workerId);
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The start of an error body (a problem detail, usually): enough for a log line. */
  private static String excerpt(byte[] body) {
    String text = new String(body, StandardCharsets.UTF_8).strip();
    return text.length() <= 300 ? text : text.substring(0, 300) + "...";
  }
}
